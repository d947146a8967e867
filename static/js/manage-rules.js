/*
 * The moderation panel's rules, as pure functions (no DOM, no storage, no
 * network): the Node tests (tests/js/) import this file as is.
 *
 * - the organiser key: read from the link's fragment (#key=...), or from
 *   what a person pastes (the whole link, or the key alone);
 * - which list a post belongs to by its status, and each list's order;
 * - merging a list fetched from the API with what arrived live meanwhile;
 * - words for the audit log, the error codes and the settings form.
 */

import * as ids from './post-ids.js';

/** The key in a URL fragment such as "#key=wk_..." (other parameters allowed), or null. */
export function keyFromFragment(hash) {
  const text = typeof hash === 'string' ? hash.replace(/^#/, '') : '';
  if (!text) return null;
  const value = new URLSearchParams(text).get('key');
  return value && /^\S+$/.test(value) ? value : null;
}

/** The key in what a person pasted: an organiser link or the key itself; or null. */
export function keyFromPasted(text) {
  const value = String(text == null ? '' : text).trim();
  if (!value) return null;
  const hash = value.indexOf('#');
  if (hash >= 0) return keyFromFragment(value.slice(hash));
  return /^\S+$/.test(value) ? value : null;
}

/** The address bar without the fragment: what is left after the key is taken out. */
export function withoutFragment(href) {
  const hash = href.indexOf('#');
  return hash >= 0 ? href.slice(0, hash) : href;
}

/** sessionStorage's name for a wall's key. */
export function keyStorageName(wall) {
  return 'wall.manage.key.' + wall;
}

/** 'queue' (pending), 'hidden' or 'feed' (visible): where a post is listed. */
export function listOf(post) {
  if (post && post.status === 'pending') return 'queue';
  if (post && post.status === 'hidden') return 'hidden';
  return 'feed';
}

/** The queue's order: oldest first, by id. */
export function queueOrder(posts) {
  return posts.slice().sort((a, b) => ids.compare(a.id, b.id));
}

/**
 * A list as fetched from the API (`snapshot`, in the server's order),
 * brought up to date with what arrived live while it was fetched:
 * `touched` maps post ids to the post as the live event had it. A touched
 * post is listed where its status says, not where the snapshot had it;
 * those that belong to this list come first (most recent first) for the
 * hidden list, in id order for the queue.
 */
export function reconcile(name, snapshot, touched) {
  const live = [];
  touched.forEach((post) => {
    if (listOf(post) === name) live.push(post);
  });
  const kept = snapshot.filter((post) => post && ids.isId(post.id) && !touched.has(post.id));
  if (name === 'queue') return queueOrder(kept.concat(live));
  return live.reverse().concat(kept);
}

/** A list with `post` put in (or replaced): the queue in id order, others newest change first. */
export function upsert(name, list, post) {
  const rest = list.filter((p) => p.id !== post.id);
  if (name === 'queue') return queueOrder(rest.concat([post]));
  return [post].concat(rest);
}

/** What the keyboard does on a focused queue item: 'approve', 'reject', or null. */
export function queueKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  const key = String(event.key || '').toLowerCase();
  if (key === 'a') return 'approve';
  if (key === 'r') return 'reject';
  return null;
}

/** The index focus moves to for a key in a list of `n` items at `i` (null: not a move). */
export function moveFocus(key, i, n) {
  if (n === 0) return null;
  if (key === 'ArrowDown' || key === 'j') return Math.min(i + 1, n - 1);
  if (key === 'ArrowUp' || key === 'k') return Math.max(i - 1, 0);
  if (key === 'Home') return 0;
  if (key === 'End') return n - 1;
  return null;
}

/** Where focus goes after item `i` of `n` left a list: the one that took its place, else the last. */
export function focusAfterRemoval(i, n) {
  if (n <= 0) return null;
  return Math.min(i, n - 1);
}

/** The blocklist as the form's textarea shows it: one entry a line. */
export function blocklistText(list) {
  return Array.isArray(list) ? list.join('\n') : '';
}

/** The textarea's lines as a blocklist: trimmed, blank lines dropped, each once. */
export function blocklistFrom(text) {
  const seen = new Set();
  const out = [];
  String(text || '').split(/\r?\n/).forEach((line) => {
    const word = line.trim();
    if (word && !seen.has(word)) {
      seen.add(word);
      out.push(word);
    }
  });
  return out;
}

/**
 * The changes a settings form makes: only the fields that differ from
 * `current` (the settings as the server last showed them).
 */
export function settingsChanges(current, form) {
  const changes = {};
  for (const field of ['moderation', 'blocklist_action', 'title', 'description']) {
    if (form[field] !== undefined && form[field] !== (current[field] || '')) changes[field] = form[field];
  }
  if (form.slow_mode_s !== undefined && Number(form.slow_mode_s) !== Number(current.slow_mode_s || 0)) {
    changes.slow_mode_s = Number(form.slow_mode_s);
  }
  if (form.blocklist !== undefined) {
    const before = Array.isArray(current.blocklist) ? current.blocklist : [];
    if (before.join('\n') !== form.blocklist.join('\n')) changes.blocklist = form.blocklist;
  }
  return changes;
}

const WHO = { organizer: 'organiser', operator: 'operator', author: 'author' };

/** One audit entry in words, e.g. "organiser Bea: pin (post 1764…-0)". */
export function auditLine(entry) {
  const by = entry && entry.by ? entry.by : {};
  let who = WHO[by.kind] || String(by.kind || 'someone');
  if (by.label) who += ' ' + by.label;
  let what = String(entry && entry.action ? entry.action : '?');
  const details = [];
  if (entry.post) details.push('post ' + entry.post);
  if (entry.scope) details.push('by ' + entry.scope);
  if (entry.key_label) details.push('“' + entry.key_label + '”');
  if (Array.isArray(entry.changes)) details.push(entry.changes.join(', '));
  if (typeof entry.posts === 'number') details.push(entry.posts + ' posts');
  if (details.length) what += ' (' + details.join('; ') + ')';
  return who + ': ' + what;
}

/** What to tell an organiser for an API refusal: {status, error, message, retry_after}. */
export function errorText(err) {
  if (!err) return 'Something went wrong.';
  if (err.status === 0) return 'Could not reach the server. Check the connection and try again.';
  if (err.error === 'unauthorized' || (err.error === 'forbidden' && /key/i.test(err.message || ''))) {
    return 'This key is not (or no longer) an organiser key of this wall.';
  }
  if (err.error === 'rate_limited') {
    return 'Too many requests: try again in ' + (err.retry_after || 1) + ' s.';
  }
  return err.message || 'The server refused (HTTP ' + err.status + ').';
}

/** What to tell a person for a refusal of POST /api/walls (the /new page). */
export function createError(status, body, name) {
  const message = body && body.message ? body.message : '';
  if (status === 409) return 'The wall #' + name + ' already has an organiser. Pick another name.';
  if (status === 429) {
    const wait = body && Number(body.retry_after) > 0 ? ' Try again in ' + body.retry_after + ' s.' : '';
    return 'Too many new walls from here for now.' + wait;
  }
  if (status === 403) return message || 'This wall cannot be created here.';
  if (status === 400) return message || 'Please check the fields.';
  if (status === 0) return 'Could not reach the server. Check the connection and try again.';
  return message || 'The server could not create the wall (HTTP ' + status + '). Try again.';
}
