// The popular order and which of two versions of a post a page keeps
// (static/js/feed-order.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { comparePopular, isStale } from '../../static/js/feed-order.js';

const post = (n, extra) => Object.assign(
  { id: (1764100000000 + n) + '-0', status: 'visible', pinned: false, likes: 0, rev: 1 },
  extra,
);

test('comparePopular: more likes first, then the newest; pins are no exception', () => {
  const list = [post(1, { likes: 2 }), post(2), post(3, { likes: 5 }), post(4, { likes: 2 }), post(5, { pinned: true })];
  assert.deepEqual(list.sort(comparePopular).map((p) => p.id.slice(-3)), ['3-0', '4-0', '1-0', '5-0', '2-0']);
  // datasets (strings) order the same
  assert.ok(comparePopular({ id: '2-0', likes: '10' }, { id: '3-0', likes: '9' }) < 0);
  assert.ok(comparePopular({ id: '2-0', likes: 'x' }, { id: '3-0' }) > 0);
});

test('isStale: a lower rev loses; without revs nothing is known', () => {
  assert.equal(isStale({ rev: 1 }, { rev: 2 }), true);
  assert.equal(isStale({ rev: 2 }, { rev: 2 }), false);
  assert.equal(isStale({ rev: 3 }, { rev: 2 }), false);
  assert.equal(isStale({}, { rev: 2 }), false);
  assert.equal(isStale({ rev: 1 }, {}), false);
  assert.equal(isStale({ rev: null }, { rev: 2 }), false);
});
