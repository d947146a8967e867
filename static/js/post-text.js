/*
 * Text rules shared with the server (docs/protocol.md, "Text rules"):
 * lengths are counted in code points after NFC normalisation and trimming,
 * so the page counts exactly what the server will count, and sends the
 * normalised text so that both sides count the same string.
 *
 * Pure functions, no DOM: the Node tests (tests/js/) import this file as is.
 */

export function normalize(text) {
  return String(text == null ? '' : text).normalize('NFC').trim();
}

// Code points, not UTF-16 units: an emoji counts 1, as on the server.
export function length(text) {
  let n = 0;
  // eslint-disable-next-line no-unused-vars
  for (const _ of text) n += 1;
  return n;
}

// A fresh idempotency key for one post, reused on every retry of it.
// globalThis rather than self: the same in a page, a worker and Node.
export function newClientId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  // randomUUID only exists in secure contexts (https or localhost).
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  return Array.from(bytes, function (b) {
    return b.toString(16).padStart(2, '0');
  }).join('');
}

// A wall name as the server folds it, or null when it isn't one.
export function wallName(text) {
  const name = String(text == null ? '' : text).trim().toLowerCase();
  return /^[a-z0-9-]{1,40}$/.test(name) ? name : null;
}

// What to tell the author of a post the server refused, by its error code.
const REFUSALS = {
  banned: 'you are banned from posting on this wall.',
  closed: 'this wall is closed: it takes no posts.',
  rejected: 'it contains a word this wall does not allow.',
};

export function refusal(code, message) {
  const why = REFUSALS[code];
  if (why) return 'Not posted: ' + why;
  return 'Not posted: ' + (message || 'the server refused it.');
}
