/*
 * The rules for one's own posts (mine.js keeps them in localStorage; this
 * file only decides). An entry is a plain JSON object per post this browser
 * wrote and was acknowledged:
 *
 *   {wall, id, client_id, author_key, until, status, saved, post?}
 *
 * - `author_key` (from the post's ack) lets the author take the post back
 *   (DELETE with X-Author-Key) within the server's 15 minutes. `until` is
 *   when the page stops offering it: the ack's arrival (local clock, so a
 *   skewed clock does not matter) plus the window, less a margin for the
 *   time the ack took to arrive.
 * - `status` 'pending': the post waits for an organiser; `post` is a copy
 *   so the page can show it as "waiting for approval" after a reload. It is
 *   kept until the post becomes visible or is hidden or deleted (or, in
 *   case the page never learns, for a week).
 * - A visible post's entry is kept only while it may still be deleted.
 *
 * Pure functions, no DOM, no storage: the Node tests import this file as is.
 */

import * as ids from './post-ids.js';

export const PREFIX = 'wall.mine.';
export const AUTHOR_WINDOW_MS = 15 * 60 * 1000;
export const MARGIN_MS = 30 * 1000;
export const HELD_KEEP_MS = 7 * 24 * 3600 * 1000;

/** The storage key of a post's entry (wall names and ids hold no dot). */
export function storageKey(wall, id) {
  return PREFIX + wall + '.' + id;
}

/** {wall, id} of a storage key, or null for a key that is not one of ours. */
export function parseKey(key) {
  if (typeof key !== 'string' || !key.startsWith(PREFIX)) return null;
  const rest = key.slice(PREFIX.length);
  const dot = rest.indexOf('.');
  if (dot <= 0) return null;
  const id = rest.slice(dot + 1);
  return ids.isId(id) ? { wall: rest.slice(0, dot), id: id } : null;
}

/** An entry from its stored JSON, or null. */
export function parseEntry(raw) {
  try {
    const entry = JSON.parse(raw);
    return entry && typeof entry.wall === 'string' && ids.isId(entry.id) ? entry : null;
  } catch (e) {
    return null;
  }
}

/** The entry for a post of ours the server just acknowledged (at `now`). */
export function entryFor(wall, post, authorKey, now) {
  const entry = {
    wall: wall,
    id: post.id,
    client_id: typeof post.client_id === 'string' ? post.client_id : null,
    author_key: typeof authorKey === 'string' && authorKey ? authorKey : null,
    until: now + AUTHOR_WINDOW_MS - MARGIN_MS,
    status: post.status === 'pending' ? 'pending' : 'visible',
    saved: now,
  };
  if (entry.status === 'pending') entry.post = post;
  return entry;
}

/** True while the page may offer Delete for this post. */
export function canDelete(entry, now) {
  return Boolean(entry && entry.author_key) && now < entry.until;
}

/** Milliseconds until Delete goes (0 when it has). */
export function deleteEndsIn(entry, now) {
  return entry ? Math.max(0, entry.until - now) : 0;
}

/** The entry once its post is on the wall: no copy of the post any more. */
export function shown(entry) {
  const next = Object.assign({}, entry, { status: 'visible' });
  delete next.post;
  return next;
}

/** Whether to keep an entry at `now`: a held post for a week, else while it may be deleted. */
export function shouldKeep(entry, now) {
  if (!entry) return false;
  if (entry.status === 'pending') return now - entry.saved < HELD_KEEP_MS;
  return canDelete(entry, now);
}

/** The held (pending) entries of a wall, oldest first. */
export function heldOf(entries, wall) {
  return entries
    .filter((e) => e && e.wall === wall && e.status === 'pending')
    .sort((a, b) => ids.compare(a.id, b.id));
}

/**
 * Where to read from to learn what became of the held posts: the id just
 * before the oldest (for `GET .../posts?after=`, whose page holds the posts
 * approved since and lists those hidden or deleted since), or null.
 */
export function checkFrom(held) {
  return held.length ? ids.justBefore(held[0].id) : null;
}

/**
 * What a page of `GET .../posts?after=` says of the held entries:
 * {visible: [post], gone: [id]}. A held post in the page's posts is on the
 * wall now; one in its `deleted` was hidden or deleted.
 */
export function resolveHeld(held, page) {
  const wanted = new Set(held.map((e) => e.id));
  const posts = page && Array.isArray(page.posts) ? page.posts : [];
  const deleted = page && Array.isArray(page.deleted) ? page.deleted : [];
  return {
    visible: posts.filter((p) => p && wanted.has(p.id) && p.status !== 'pending'),
    gone: deleted.filter((id) => wanted.has(id)),
  };
}
