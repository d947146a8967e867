// When a post was made, as the feed shows it (static/js/feed.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { postTime, relativeTime } from '../../static/js/feed.js';

const NOW = Date.UTC(2026, 5, 15, 12, 0, 0);
const ago = (ms) => new Date(NOW - ms);
const MIN = 60 * 1000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

test('postTime: the server\'s ts, else the time in the id', () => {
  assert.equal(postTime({ id: '1764100000000-0', ts: 1764100000123 }).getTime(), 1764100000123);
  assert.equal(postTime({ id: '1764100000000-0' }).getTime(), 1764100000000);
  assert.equal(postTime({ id: '1764100000000-0', ts: 0 }).getTime(), 1764100000000);
  assert.equal(postTime({ id: '1764100000000-0', ts: 'soon' }).getTime(), 1764100000000);
  assert.ok(Number.isNaN(postTime({ id: 'junk' }).getTime()));
});

test('relativeTime: just now, minutes, hours', () => {
  assert.equal(relativeTime(ago(0), NOW), 'just now');
  assert.equal(relativeTime(ago(59 * 1000), NOW), 'just now');
  assert.equal(relativeTime(ago(-30 * 1000), NOW), 'just now'); // clock skew
  assert.equal(relativeTime(ago(MIN), NOW), '1 min ago');
  assert.equal(relativeTime(ago(59 * MIN), NOW), '59 min ago');
  assert.equal(relativeTime(ago(HOUR), NOW), '1 h ago');
  assert.equal(relativeTime(ago(23 * HOUR + 59 * MIN), NOW), '23 h ago');
});

test('relativeTime: yesterday, days, then the date', () => {
  assert.equal(relativeTime(ago(DAY), NOW), 'yesterday');
  assert.equal(relativeTime(ago(2 * DAY), NOW), '2 days ago');
  assert.equal(relativeTime(ago(6 * DAY + 23 * HOUR), NOW), '6 days ago');
  const week = relativeTime(ago(8 * DAY), NOW);
  assert.equal(week, ago(8 * DAY).toLocaleDateString(undefined, { month: 'short', day: 'numeric' }));
  assert.doesNotMatch(week, /2026/);
});

test('relativeTime: a date of another year says the year', () => {
  const old = relativeTime(ago(400 * DAY), NOW);
  assert.match(old, /2025/);
});
