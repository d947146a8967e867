/*
 * The projector's posts: a bounded model of the wall, whatever arrives.
 *
 * It speaks the feed's part of sync.js (merge, remove, reset, newestId,
 * setLoaded, data), so the same sync keeps it complete across reconnects,
 * catch-up pages, `resync` and `truncated`; but it never grows past
 * MODEL_MAX posts besides the pinned ones: the newest, or the most liked
 * with `sort: 'popular'`. The screen shows only what fits of them
 * (present-view.js); the rest is dropped, so memory stays flat over hours
 * and thousands of posts.
 *
 * Like the feed it keeps the version of a post with the higher `rev`, shows
 * no post deleted during this visit (unless the server says it is back),
 * and never shows a pending one. `newestId()` is the newest post ever
 * merged, even one since dropped, so that sync resumes after it and not
 * after a gap: posts fetched out of stream order (the popular list) are
 * merged with `noResume` and never move it.
 *
 * Pure, no DOM: the Node tests (tests/js/) import this file as is.
 */

import * as ids from './post-ids.js';
import { comparePopular, isStale } from './feed-order.js';

export const MODEL_MAX = 200;
// Trimmed in blocks: a sort per SLACK posts, not one per post.
const SLACK = 50;
// Deleted ids remembered, so that a late copy of one is not shown again.
const DELETED_MAX = 1000;

/** Newest first. */
export function compareNewest(a, b) {
  return ids.compare(b.id, a.id);
}

export class PresentModel {
  /**
   * @param {object} options  sort: 'newest' | 'popular'; max: posts kept
   *   besides the pinned; onChange(): something to show changed
   */
  constructor(options) {
    const o = options || {};
    this.sort = o.sort === 'popular' ? 'popular' : 'newest';
    this.compare = this.sort === 'popular' ? comparePopular : compareNewest;
    this.max = o.max || MODEL_MAX;
    this.onChange = o.onChange || function () {};
    this.data = new Map(); // id -> post
    this.deleted = new Set(); // in the order they were deleted
    this.arrivals = new Set(); // ids that came live and are not yet shown
    this.newest = null;
    this.loaded = false;
  }

  /**
   * Take a post (any source); returns true if it is new here.
   *
   * @param {object} options  arrived: it came live (animate it when shown);
   *   revive: the server says it is on the wall now; outside: older than
   *   what sync has loaded (kept only by the popular order, which wants it);
   *   noResume: fetched out of stream order, so not a resume position
   */
  merge(post, options) {
    if (!post || typeof post !== 'object' || !ids.isId(post.id)) return false;
    if (post.status === 'hidden') {
      this.remove(post.id);
      return false;
    }
    if (post.status === 'pending') return false;
    const o = options || {};
    if (o.revive) this.deleted.delete(post.id);
    if (this.deleted.has(post.id)) return false;
    const shown = this.data.get(post.id);
    if (shown && isStale(post, shown)) return false;
    if (!shown && o.outside && !post.pinned && this.sort === 'newest') return false;
    this.data.set(post.id, post);
    if (!shown) {
      if (!o.noResume) this.newest = ids.newer(this.newest, post.id);
      if (o.arrived) this.arrivals.add(post.id);
    }
    if (this.data.size > this.max + SLACK) this.trim();
    this.onChange();
    return !shown && this.data.has(post.id);
  }

  // Keep the `max` first in this order, and every pinned post.
  trim() {
    const rest = [];
    this.data.forEach(function (post) {
      if (!post.pinned) rest.push(post);
    });
    if (rest.length <= this.max) return;
    rest.sort(this.compare);
    for (const post of rest.slice(this.max)) {
      this.data.delete(post.id);
      this.arrivals.delete(post.id);
    }
  }

  /** Deleted or hidden: gone, and not shown again if a late copy comes. */
  remove(id) {
    this.deleted.delete(id);
    this.deleted.add(id);
    if (this.deleted.size > DELETED_MAX) {
      this.deleted.delete(this.deleted.values().next().value);
    }
    this.arrivals.delete(id);
    if (this.data.delete(id)) this.onChange();
  }

  /** Retention dropped posts we never saw: start afresh. */
  reset() {
    this.data.clear();
    this.arrivals.clear();
    this.newest = null;
    this.onChange();
  }

  newestId() {
    return this.newest;
  }

  setLoaded() {
    this.loaded = true;
    this.onChange();
  }

  /** What to show, in order: the pinned (newest first), then the rest. */
  view() {
    const pinned = [];
    const posts = [];
    this.data.forEach(function (post) {
      (post.pinned ? pinned : posts).push(post);
    });
    pinned.sort(compareNewest);
    posts.sort(this.compare);
    return { pinned: pinned, posts: posts };
  }

  /** True once for a post that came live (the view animates it). */
  takeArrival(id) {
    return this.arrivals.delete(id);
  }

  /** Arrivals not shown by now (no room) are no longer news. */
  clearArrivals() {
    this.arrivals.clear();
  }
}
