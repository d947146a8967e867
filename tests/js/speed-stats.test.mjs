// The speed test's statistics and numbers (speed-stats.js, speed-format.js,
// and the run's summary line in speed-run.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { median, percentile, timingStats, fastest } from '../../static/js/speed-stats.js';
import { formatCount, formatMs, formatRate, formatBytes } from '../../static/js/speed-format.js';
import { METHODS, summaryText } from '../../static/js/speed-run.js';

const range = (n) => Array.from({ length: n }, (_, i) => i + 1);

test('median of an odd and an even count', () => {
  assert.equal(median([7]), 7);
  assert.equal(median([1, 2, 3]), 2);
  assert.equal(median([1, 2, 3, 4]), 2.5);
  assert.equal(median([1, 1, 5, 9, 10]), 5);
});

test('percentile is the nearest rank', () => {
  assert.equal(percentile(range(100), 0.95), 95);
  assert.equal(percentile(range(20), 0.95), 19);
  assert.equal(percentile(range(10), 0.95), 10);
  assert.equal(percentile([5], 0.95), 5);
  assert.equal(percentile(range(10), 0.5), 5);
  assert.equal(percentile(range(10), 0), 1);
});

test('timingStats: total, median, p95 and round trips per second', () => {
  assert.deepEqual(timingStats([3, 1, 2, 4], 2000), { total: 2000, median: 2.5, p95: 4, rps: 2 });
  const stats = timingStats(range(200).map((n) => n / 10), 500);
  assert.equal(stats.median, 10.05);
  assert.equal(stats.p95, 19);
  assert.equal(stats.rps, 400);
});

test('timingStats sorts numerically, not as strings', () => {
  // As strings 10 < 100 < 9, and the median would be 100.
  assert.equal(timingStats(new Float64Array([10, 9, 100]), 1000).median, 10);
  assert.equal(timingStats([10, 9, 100], 1000).median, 10);
  assert.equal(timingStats([10, 9, 100], 1000).p95, 100);
});

const run = (results) => ({ number: 3, rounds: 20, results: results });

test('fastest: most round trips per second, failures left out', () => {
  const results = {
    'sio-ws': { rps: 186 }, 'sio-polling': { rps: 108 }, ws: { rps: 719 }, fetch: { error: 'no' },
  };
  assert.equal(fastest(METHODS, results).id, 'ws');
  assert.equal(fastest(METHODS, { ...results, ws: { error: 'closed' } }).id, 'sio-ws');
  assert.equal(fastest(METHODS, { 'sio-ws': { rps: 5 }, ws: { rps: 5 } }).id, 'sio-ws'); // first of equals
  assert.equal(fastest(METHODS, { ws: { error: 'x' } }), null);
  assert.equal(fastest(METHODS, {}), null);
});

test('summaryText names the fastest and counts failures', () => {
  const ok = { 'sio-ws': { rps: 186 }, 'sio-polling': { rps: 108 }, ws: { rps: 719.4 }, fetch: { rps: 195 } };
  assert.equal(summaryText(run(ok), METHODS),
    'Run 3 done: WebSocket was fastest, 719 round trips per second.');
  assert.equal(summaryText(run({ ...ok, fetch: { error: 'x' } }), METHODS),
    'Run 3 done: WebSocket was fastest, 719 round trips per second. 1 method failed.');
  assert.equal(summaryText(run({ ...ok, fetch: { error: 'x' }, ws: { error: 'y' } }), METHODS),
    'Run 3 done: Socket.IO, WebSocket was fastest, 186 round trips per second. 2 methods failed.');
  const none = Object.fromEntries(METHODS.map((m) => [m.id, { error: 'down' }]));
  assert.equal(summaryText(run(none), METHODS), 'Run 3 failed: no method completed.');
});

test('the methods run in the page\'s order', () => {
  assert.deepEqual(METHODS.map((m) => m.id), ['sio-ws', 'sio-polling', 'ws', 'fetch']);
});

test('formatMs: seconds from 10 s, whole ms from 100, else two or one decimals', () => {
  assert.equal(formatMs(12345), '12.3 s');
  assert.equal(formatMs(10000), '10.0 s');
  assert.equal(formatMs(9999.4), '9,999 ms');
  assert.equal(formatMs(150.4), '150 ms');
  assert.equal(formatMs(12.34), '12.3 ms');
  assert.equal(formatMs(4.456), '4.46 ms');
  assert.equal(formatMs(0.9), '0.90 ms');
});

test('formatRate: whole from 100, one decimal below', () => {
  assert.equal(formatRate(719.4), '719');
  assert.equal(formatRate(1234.5), '1,235');
  assert.equal(formatRate(99.96), '100.0');
  assert.equal(formatRate(12.34), '12.3');
});

test('formatBytes and formatCount', () => {
  assert.equal(formatBytes(null), 'n/a');
  assert.equal(formatBytes(66), '66 B');
  assert.equal(formatBytes(1670.04), '1,670 B');
  assert.equal(formatBytes(212.86), '212.9 B');
  assert.equal(formatCount(10000), '10,000');
  assert.equal(formatCount(10), '10');
});
