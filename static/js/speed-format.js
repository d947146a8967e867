/*
 * How the speed test writes its numbers, in the table, the chart, the
 * history and the notes on how the bytes were counted.
 *
 * Pure functions: the Node tests (tests/js/) import this file as is.
 */

const numbers = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const decimals = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });

/** A whole number with thousands separators: 10,000. */
export function formatCount(n) {
  return numbers.format(n);
}

export function formatMs(ms) {
  if (ms >= 10000) return (ms / 1000).toFixed(1) + ' s';
  if (ms >= 100) return numbers.format(ms) + ' ms';
  return ms.toFixed(ms >= 10 ? 1 : 2) + ' ms';
}

export function formatRate(rps) {
  return rps >= 100 ? numbers.format(rps) : rps.toFixed(1);
}

export function formatBytes(bytes) {
  return bytes === null ? 'n/a' : decimals.format(bytes) + ' B';
}
