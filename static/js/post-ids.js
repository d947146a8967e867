/*
 * Post ids: Redis stream ids "<ms>-<seq>" that sort in time order.
 *
 * They are compared as two numbers, never as strings ("9-0" < "10-0").
 * BigInt because a sequence number may in theory pass 2^53.
 *
 * Pure functions, no DOM: the Node tests (tests/js/) import this file as is.
 */

const ID_RE = /^(\d+)-(\d+)$/;

/** [ms, seq] as BigInts, or null when `id` is not a post id. */
export function parse(id) {
  const m = typeof id === 'string' ? ID_RE.exec(id) : null;
  return m ? [BigInt(m[1]), BigInt(m[2])] : null;
}

export function isId(id) {
  return parse(id) !== null;
}

// Negative, zero or positive, like a sort comparator. Both must be ids.
export function compare(a, b) {
  const pa = parse(a);
  const pb = parse(b);
  if (pa[0] !== pb[0]) return pa[0] < pb[0] ? -1 : 1;
  if (pa[1] !== pb[1]) return pa[1] < pb[1] ? -1 : 1;
  return 0;
}

// The newer of two ids; anything that isn't an id is ignored, so bad
// data can never move a resume position.
export function newer(a, b) {
  if (!isId(b)) return isId(a) ? a : null;
  if (!isId(a)) return b;
  return compare(a, b) >= 0 ? a : b;
}

// The older of two ids, ignoring non-ids the same way.
export function older(a, b) {
  if (!isId(b)) return isId(a) ? a : null;
  if (!isId(a)) return b;
  return compare(a, b) <= 0 ? a : b;
}

// Milliseconds since the epoch at which Redis stored the post.
export function timeOf(id) {
  const m = typeof id === 'string' ? ID_RE.exec(id) : null;
  return m ? Number(m[1]) : NaN;
}

// The id just before `id` (for an exclusive `after=` that includes `id`),
// or null when `id` is not an id or is the first there can be.
export function justBefore(id) {
  const p = parse(id);
  if (p === null) return null;
  if (p[1] > 0n) return p[0] + '-' + (p[1] - 1n);
  if (p[0] > 0n) return (p[0] - 1n) + '-18446744073709551615';
  return null;
}
