/*
 * The speed test's statistics: what a method's round-trip times come to.
 *
 * Pure functions of numbers: the Node tests (tests/js/) import this file
 * as is.
 */

/** The median of ascending `sorted` (the mean of the middle two for an even count). */
export function median(sorted) {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// Nearest rank: the smallest time that 95% of the round trips did not exceed.
export function percentile(sorted, p) {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

/**
 * One method's figures from its round-trip times in ms (`times`, any
 * order; a Float64Array sorts numerically, so it is sorted in place) and
 * the run's wall-clock `total` in ms: {total, median, p95, rps}.
 */
export function timingStats(times, total) {
  const sorted = times instanceof Float64Array ? times.sort() : Float64Array.from(times).sort();
  return {
    total: total,
    median: median(sorted),
    p95: percentile(sorted, 0.95),
    rps: sorted.length / (total / 1000),
  };
}

/**
 * The method with the most round trips per second among those of `methods`
 * whose result in `results` (by method id) did not fail; the first of equals.
 * Null when none completed.
 */
export function fastest(methods, results) {
  const done = methods.filter((m) => results[m.id] && !results[m.id].error);
  if (!done.length) return null;
  return done.reduce((a, b) => (results[b.id].rps > results[a.id].rps ? b : a));
}
