/*
 * One's own posts on this wall: the author keys that let this browser take
 * a post back within 15 minutes, and the posts that wait for an organiser's
 * approval, kept in localStorage (one key per post, "wall.mine.<wall>.<id>")
 * so they survive a reload. The rules are in mine-entries.js.
 */

import {
  storageKey, parseKey, parseEntry, entryFor, canDelete, deleteEndsIn, shown, shouldKeep,
  heldOf, checkFrom, resolveHeld,
} from './mine-entries.js';

function storage() {
  try {
    const s = self.localStorage;
    s.setItem('wall.mine.probe', '1');
    s.removeItem('wall.mine.probe');
    return s;
  } catch (e) {
    return null;
  }
}

export class MyPosts {
  /**
   * @param {string} wall
   * @param {function} onExpire(id): Delete is no longer offered for a post
   */
  constructor(wall, onExpire) {
    this.wall = wall;
    this.onExpire = onExpire;
    this.storage = storage();
    this.memory = new Map(); // id -> entry, where storage is unavailable
    this.timers = new Map();
    this.prune();
    this.all().forEach((entry) => this.schedule(entry));
  }

  all() {
    if (this.storage === null) return Array.from(this.memory.values());
    const out = [];
    for (let i = 0; i < this.storage.length; i++) {
      const where = parseKey(this.storage.key(i));
      if (where && where.wall === this.wall) {
        const entry = parseEntry(this.storage.getItem(this.storage.key(i)));
        if (entry) out.push(entry);
      }
    }
    return out;
  }

  get(id) {
    if (this.storage === null) return this.memory.get(id) || null;
    const raw = this.storage.getItem(storageKey(this.wall, id));
    return raw ? parseEntry(raw) : null;
  }

  put(entry) {
    if (this.storage !== null) {
      try {
        this.storage.setItem(storageKey(this.wall, entry.id), JSON.stringify(entry));
        return;
      } catch (e) {
        this.storage = null; // full: keep the rest in memory
      }
    }
    this.memory.set(entry.id, entry);
  }

  forget(id) {
    this.memory.delete(id);
    if (this.storage !== null) this.storage.removeItem(storageKey(this.wall, id));
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  prune() {
    const now = Date.now();
    this.all().forEach((entry) => {
      if (!shouldKeep(entry, now)) this.forget(entry.id);
    });
  }

  /** Our post was acknowledged: keep its author key (and it, while held). */
  remember(post, authorKey) {
    if (!post || !post.id) return;
    const entry = entryFor(this.wall, post, authorKey, Date.now());
    this.put(entry);
    this.schedule(entry);
  }

  schedule(entry) {
    clearTimeout(this.timers.get(entry.id));
    const wait = deleteEndsIn(entry, Date.now());
    if (wait <= 0) return;
    // Timers of background tabs may fire late; canDelete() is checked on
    // every render as well.
    this.timers.set(entry.id, setTimeout(() => {
      this.timers.delete(entry.id);
      const now = this.get(entry.id);
      if (now && !shouldKeep(now, Date.now())) this.forget(entry.id);
      this.onExpire(entry.id);
    }, wait + 50));
  }

  canDelete(id) {
    return canDelete(this.get(id), Date.now());
  }

  authorKey(id) {
    const entry = this.get(id);
    return entry ? entry.author_key : null;
  }

  /** A post reached the wall (visible): it is no longer held. */
  visible(post) {
    const entry = this.get(post.id);
    if (!entry || entry.status !== 'pending' || post.status === 'pending') return;
    const next = shown(entry);
    if (shouldKeep(next, Date.now())) {
      this.put(next);
    } else {
      this.forget(post.id);
    }
  }

  /** Held posts, oldest first, as posts to show. */
  held() {
    return heldOf(this.all(), this.wall).map((e) => e.post).filter(Boolean);
  }

  /**
   * Ask the server what became of the held posts (after a reload): those
   * on the wall now come back through onVisible, those hidden or deleted
   * through onGone. One page of 200; anything further waits for next time.
   */
  check(postsUrl, onVisible, onGone) {
    const held = heldOf(this.all(), this.wall);
    const from = checkFrom(held);
    if (from === null) return Promise.resolve();
    const url = postsUrl + '?after=' + encodeURIComponent(from) + '&limit=200';
    return fetch(url, { headers: { Accept: 'application/json' } })
      .then((resp) => (resp.ok ? resp.json() : null))
      .then((page) => {
        if (!page) return;
        const found = resolveHeld(held, page);
        found.visible.forEach((post) => onVisible(post));
        found.gone.forEach((id) => onGone(id));
      }, function () { /* offline: the held posts stay as they are */ });
  }
}
