// Post ids (static/js/post-ids.js): Redis stream ids compared as numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parse, isId, compare, newer, older, timeOf } from '../../static/js/post-ids.js';

test('parse splits an id into two BigInts', () => {
  assert.deepEqual(parse('1764100000000-0'), [1764100000000n, 0n]);
  assert.deepEqual(parse('0-0'), [0n, 0n]);
  assert.deepEqual(parse('5-12'), [5n, 12n]);
});

test('parse keeps sequence numbers past 2^53 exact', () => {
  assert.deepEqual(parse('1-9007199254740993'), [1n, 9007199254740993n]);
});

test('parse refuses anything that is not <digits>-<digits>', () => {
  for (const bad of ['', '1', '1-', '-1', '1-2-3', ' 1-2', '1-2 ', 'a-1', '1-b', '1.5-2', '+1-2', '1_2']) {
    assert.equal(parse(bad), null, JSON.stringify(bad));
  }
  for (const bad of [null, undefined, 12, 1n, {}, ['1-2'], { toString: () => '1-2' }]) {
    assert.equal(parse(bad), null, String(bad));
  }
});

test('isId agrees with parse', () => {
  assert.equal(isId('1764100000000-3'), true);
  assert.equal(isId('1764100000000'), false);
  assert.equal(isId(null), false);
});

test('compare orders by milliseconds first, then sequence, as numbers', () => {
  assert.equal(compare('9-0', '10-0'), -1); // as strings "9-0" > "10-0"
  assert.equal(compare('10-0', '9-0'), 1);
  assert.equal(compare('5-9', '5-10'), -1);
  assert.equal(compare('5-10', '5-9'), 1);
  assert.equal(compare('6-0', '5-99'), 1);
  assert.equal(compare('7-7', '7-7'), 0);
});

test('compare works as a sort comparator', () => {
  const sorted = ['10-0', '9-1', '9-0', '100-0', '9-10', '1-0'].sort(compare);
  assert.deepEqual(sorted, ['1-0', '9-0', '9-1', '9-10', '10-0', '100-0']);
});

test('compare tells sequence numbers apart beyond 2^53', () => {
  assert.equal(compare('1-9007199254740992', '1-9007199254740993'), -1);
});

test('newer returns the later id', () => {
  assert.equal(newer('9-0', '10-0'), '10-0');
  assert.equal(newer('10-0', '9-0'), '10-0');
  assert.equal(newer('5-2', '5-1'), '5-2');
  assert.equal(newer('5-1', '5-1'), '5-1');
});

test('newer ignores whatever is not an id', () => {
  assert.equal(newer(null, '3-0'), '3-0');
  assert.equal(newer('3-0', null), '3-0');
  assert.equal(newer('3-0', 'garbage'), '3-0');
  assert.equal(newer('garbage', '3-0'), '3-0');
  assert.equal(newer(null, null), null);
  assert.equal(newer('x', undefined), null);
});

test('older returns the earlier id and ignores non-ids', () => {
  assert.equal(older('9-0', '10-0'), '9-0');
  assert.equal(older('10-0', '9-0'), '9-0');
  assert.equal(older('5-2', '5-1'), '5-1');
  assert.equal(older(null, '3-0'), '3-0');
  assert.equal(older('3-0', 'nope'), '3-0');
  assert.equal(older(undefined, null), null);
});

test('timeOf is the milliseconds half, as a Number', () => {
  assert.equal(timeOf('1764100000000-7'), 1764100000000);
  assert.equal(new Date(timeOf('1764100000000-0')).toISOString(), '2025-11-25T19:46:40.000Z');
  assert.equal(timeOf('0-0'), 0);
});

test('timeOf of a non-id is NaN', () => {
  assert.ok(Number.isNaN(timeOf('1764100000000')));
  assert.ok(Number.isNaN(timeOf(null)));
  assert.ok(Number.isNaN(timeOf(1764100000000)));
});
