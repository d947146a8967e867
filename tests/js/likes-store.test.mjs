// Which posts this browser likes, as kept per wall (static/js/likes-store.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { LIKED_MAX, parseLiked, storageKey, withLiked } from '../../static/js/likes-store.js';

test('one key per wall', () => {
  assert.equal(storageKey('ev'), 'wall.likes.ev');
});

test('parseLiked: ids only, once each, anything else is nothing', () => {
  assert.deepEqual(parseLiked('["1-0","2-0","1-0","x",5,null]'), ['1-0', '2-0']);
  assert.deepEqual(parseLiked('not json'), []);
  assert.deepEqual(parseLiked('{"a":1}'), []);
  const many = JSON.stringify(Array.from({ length: LIKED_MAX + 10 }, (_, i) => i + '-0'));
  const parsed = parseLiked(many);
  assert.equal(parsed.length, LIKED_MAX);
  assert.equal(parsed[parsed.length - 1], LIKED_MAX + 9 + '-0'); // the newest kept
});

test('withLiked: liked moves to the end, unliked leaves, bounded', () => {
  assert.deepEqual(withLiked(['1-0', '2-0'], '1-0', true), ['2-0', '1-0']);
  assert.deepEqual(withLiked(['1-0', '2-0'], '1-0', false), ['2-0']);
  assert.deepEqual(withLiked(['1-0'], 'junk', true), ['1-0']);
  const full = Array.from({ length: LIKED_MAX }, (_, i) => i + '-0');
  const next = withLiked(full, '99999-0', true);
  assert.equal(next.length, LIKED_MAX);
  assert.equal(next[0], '1-0');
  assert.equal(next[next.length - 1], '99999-0');
});
