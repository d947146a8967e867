/*
 * Where a post stands in a feed: pinned posts first, then newest first; or
 * in the popular order, the most liked first, then the newest. And which of
 * two versions of one post to keep.
 *
 * Pure functions, no DOM: the Node tests (tests/js/) import this file as is.
 * A "post" here is anything with `id`, `pinned` and `likes` (a post from the
 * server, or the dataset of its <li>, where pinned is '1' or absent and
 * likes a string).
 */

import * as ids from './post-ids.js';

function isPinned(post) {
  return post.pinned === true || post.pinned === '1';
}

/**
 * Sort comparator for a feed, top first: negative when `a` shows above `b`.
 * Pinned posts come first; within pinned and unpinned alike the newest id
 * is on top.
 */
export function compareFeed(a, b) {
  const pa = isPinned(a);
  const pb = isPinned(b);
  if (pa !== pb) return pa ? -1 : 1;
  return ids.compare(b.id, a.id);
}

/**
 * The index at which `post` goes in `list` (top first, sorted by
 * compareFeed, possibly holding `post` itself, which is skipped).
 */
export function slotFor(list, post) {
  let i = 0;
  for (const other of list) {
    if (other.id !== post.id && compareFeed(other, post) < 0) i += 1;
  }
  return i;
}

/**
 * What a page does with a post the server sent as `post updated` (or in a
 * join ack's `pinned`): 'show' it (merge or replace), or 'remove' it. Only
 * visible posts are on a wall; a hidden one leaves it, and a pending one
 * is on no one's wall but its author's (who got it from its ack).
 */
export function updateAction(post) {
  return post && post.status === 'visible' ? 'show' : 'remove';
}

function likesOf(post) {
  const n = Number(post.likes);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * The popular order, top first: more likes first, then the newest, as
 * `GET .../posts?sort=popular` orders them (pins are no exception).
 */
export function comparePopular(a, b) {
  const la = likesOf(a);
  const lb = likesOf(b);
  if (la !== lb) return lb - la;
  return ids.compare(b.id, a.id);
}

/**
 * True when `next` is an older version of a post than `shown`: its `rev`
 * is lower (docs/protocol.md, "A post": keep the higher `rev`, whatever
 * order versions arrive in). Without a `rev` on either side, nothing is
 * known, and the newer arrival wins as before.
 */
export function isStale(next, shown) {
  const a = next && typeof next.rev === 'number' ? next.rev : NaN;
  const b = shown && typeof shown.rev === 'number' ? shown.rev : NaN;
  return a < b; // false whenever either is NaN
}
