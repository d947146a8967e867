/*
 * Which posts of a wall this browser likes, as kept in localStorage.
 *
 * The server knows (one like per `wall_client` cookie) but tells a page only
 * in a like's ack: neither a join nor a post carries "liked by you"
 * (docs/protocol.md). So the page remembers its own likes, one list per
 * wall under "wall.likes.<wall>", newest last, at most LIKED_MAX ids: past
 * that the oldest are forgotten (their buttons then show unpressed, and the
 * first click is answered with the truth: liked twice keeps one).
 *
 * Pure functions, no DOM: the Node tests (tests/js/) import this file as is.
 */

import { isId } from './post-ids.js';

export const LIKED_MAX = 1000;

export function storageKey(wall) {
  return 'wall.likes.' + wall;
}

/** The liked ids in a stored value (anything unreadable is nothing). */
export function parseLiked(raw) {
  let list;
  try {
    list = JSON.parse(raw);
  } catch (e) {
    return [];
  }
  if (!Array.isArray(list)) return [];
  const seen = new Set();
  const out = [];
  for (const id of list) {
    if (isId(id) && !seen.has(id)) {
      seen.add(id);
      out.push(id);
    }
  }
  return out.slice(-LIKED_MAX);
}

/** `list` with `id` liked (moved to the end) or not, at most LIKED_MAX long. */
export function withLiked(list, id, liked) {
  const out = list.filter((other) => other !== id);
  if (liked && isId(id)) out.push(id);
  return out.slice(-LIKED_MAX);
}
