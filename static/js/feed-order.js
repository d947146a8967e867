/*
 * Where a post stands in a feed: pinned posts first, then newest first.
 *
 * Pure functions, no DOM: the Node tests (tests/js/) import this file as is.
 * A "post" here is anything with `id` and `pinned` (a post from the server,
 * or the dataset of its <li>, where pinned is '1' or absent).
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
