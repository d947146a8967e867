/*
 * The outbox's rules, as pure functions of its entries (outbox.js keeps
 * them in localStorage and sends them; this file only decides).
 *
 * An entry is a plain JSON object, one per post not yet acknowledged:
 *
 *   {client_id, wall, username, message, created, tab,
 *    state: 'pending' | 'failed', error, code?, retry_at,
 *    lease, lease_until}
 *
 * - Order: oldest first (`created`, then client_id), and strictly in order:
 *   the oldest pending entry goes first, and one that must wait (a retry
 *   pause, another tab's lease) holds back those behind it.
 * - Leases: the tab sending an entry holds it until `lease_until`, so that
 *   two tabs rarely send the same entry at once (and when they do, the
 *   client_id makes the server store it once).
 * - Answers: rate_limited / unavailable wait `retry_after` (or a pause) and
 *   stay pending; any other refusal makes the entry "failed" with the
 *   server's reason; no answer (offline, timeout) keeps it pending.
 *
 * Every function returns new objects and leaves its arguments alone. No
 * DOM, no storage: the Node tests (tests/js/) import this file as is.
 */

export const PREFIX = 'wall.outbox.';
export const SEND_TIMEOUT_MS = 10000;
export const LEASE_MS = SEND_TIMEOUT_MS + 5000;
export const TIMEOUT_RETRY_MS = 1000;
export const UNAVAILABLE_RETRY_MS = 3000;
export const RATE_LIMITED_RETRY_MS = 2000;
export const REFUSED_MESSAGE = 'The server refused this post.';

/** The storage key of an entry: one key per post, so tabs never overwrite each other. */
export function storageKey(clientId) {
  return PREFIX + clientId;
}

/** The client_id a storage key belongs to, or null for a key that is not the outbox's. */
export function clientIdOfKey(key) {
  return typeof key === 'string' && key.startsWith(PREFIX) ? key.slice(PREFIX.length) : null;
}

/** An entry from its stored JSON, or null for anything that is not one. */
export function parseEntry(raw) {
  try {
    const entry = JSON.parse(raw);
    return entry && typeof entry.client_id === 'string' ? entry : null;
  } catch (e) {
    return null;
  }
}

/**
 * The entries of the two places an entry may be kept: `stored` (from
 * localStorage) and `kept` (the in-memory fallback), both lists of entries
 * or nulls. Nulls (unreadable entries) are left out.
 *
 * One post may be in both: once localStorage is full, every later change
 * goes to memory only, and the stored copy goes stale. The kept copy is the
 * newer one (as EntryStore.get() has it), so it wins; otherwise a post the
 * server refused would still be "pending" in its stale copy and be sent
 * again and again.
 */
export function mergeEntries(stored, kept) {
  const byId = new Map();
  for (const entry of stored.concat(kept)) {
    if (entry) byId.set(entry.client_id, entry);
  }
  return Array.from(byId.values());
}

/** Sort comparator: oldest first, ties broken by client_id. */
export function byAge(a, b) {
  return a.created - b.created || (a.client_id < b.client_id ? -1 : 1);
}

/** The entries of one wall, oldest first (a new array). */
export function entriesOf(entries, wall) {
  return entries.filter((entry) => entry.wall === wall).sort(byAge);
}

/** A new pending entry, created now by tab `tabId`. */
export function newEntry(clientId, wall, username, message, tabId, now) {
  return {
    client_id: clientId,
    wall: wall,
    username: username,
    message: message,
    created: now,
    tab: tabId,
    state: 'pending',
    error: null,
    retry_at: 0,
    lease: null,
    lease_until: 0,
  };
}

/**
 * What to send next: null when no entry is pending, else {entry, wait}
 * with the oldest pending entry (`entries` oldest first) and how many ms
 * to wait before it may go (its retry pause, another tab's lease), 0 when
 * it may go now. Never an entry behind it: posts go strictly in order.
 */
export function nextToSend(entries, tabId, now) {
  const entry = entries.find((e) => e.state === 'pending');
  if (!entry) return null;
  let wait = entry.retry_at - now;
  if (entry.lease && entry.lease !== tabId) wait = Math.max(wait, entry.lease_until - now);
  return { entry: entry, wait: wait > 0 ? wait : 0 };
}

/** The entry leased to `tabId` for one send. */
export function leased(entry, tabId, now) {
  return Object.assign({}, entry, { lease: tabId, lease_until: now + LEASE_MS });
}

/** True when the server's answer means the post is stored. */
export function isStored(result) {
  return Boolean(result && result.ok && result.post);
}

/**
 * The entry after an answer that did not store it: a pause for
 * rate_limited and unavailable (the server's `retry_after` seconds, or our
 * own), "failed" with the server's reason for anything else.
 */
export function answered(entry, result, now) {
  const next = Object.assign({}, entry, { lease: null });
  const code = result && result.error;
  const retryAfter = result && Number(result.retry_after) > 0 ? Number(result.retry_after) * 1000 : 0;
  if (code === 'rate_limited') {
    next.retry_at = now + (retryAfter || RATE_LIMITED_RETRY_MS);
    next.error = null;
  } else if (code === 'unavailable') {
    next.retry_at = now + (retryAfter || UNAVAILABLE_RETRY_MS);
    next.error = null;
  } else {
    next.state = 'failed';
    next.code = code || 'unknown';
    next.error = (result && result.message) || REFUSED_MESSAGE;
  }
  return next;
}

/**
 * The entry after a send that got no answer. Offline: the next 'live'
 * sends again. A timeout while connected: the post may or may not be
 * stored; the same client_id makes the retry safe either way.
 */
export function unanswered(entry, err, now) {
  const next = Object.assign({}, entry, { lease: null });
  if (err && err.message === 'timeout') next.retry_at = now + TIMEOUT_RETRY_MS;
  return next;
}

/** A failed entry made pending again, to be sent at once with its client_id. */
export function retried(entry) {
  return Object.assign({}, entry, { state: 'pending', error: null, retry_at: 0 });
}

/**
 * The entries whose lease `tabId` holds, released: a page going away hands
 * them back so that the reloaded page (or another tab) can send at once
 * instead of waiting for the leases to expire.
 */
/**
 * The entry's post reached the page before its ack: it shows as a post,
 * and the entry is sent until it is acknowledged (outbox.js, settle).
 */
export function seen(entry) {
  return Object.assign({}, entry, { seen: true });
}

export function releasedLeases(entries, tabId) {
  return entries
    .filter((entry) => entry.lease === tabId)
    .map((entry) => Object.assign({}, entry, { lease: null }));
}
