/*
 * The feed: the wall's posts, newest first, and the outbox's posts above them.
 *
 * Every post is shown once: posts are kept by id, whichever way they came
 * (join ack, live `new post`, catch-up, "Load older", our own ack), and a
 * post deleted during this visit is never shown again, even if a later
 * catch-up brings it back. A post of ours replaces its "sending…" item in
 * place, matched by client_id.
 *
 * Pinned posts stand first, marked; a post of ours that waits for an
 * organiser's approval shows as "waiting for approval" where it belongs.
 * The page may add buttons to a post (`decorate`); their clicks come back
 * through `onPostAction(action, id)`. Of two versions of a post the one
 * with the higher `rev` stays; a change of its likes alone is applied in
 * place (`onLikes`), so that a like button keeps its focus. Another order
 * (`compare`, e.g. the popular one) makes a second feed of the same posts.
 *
 * User text reaches the DOM only through textContent; each name and message
 * is its own bidi-isolated, dir="auto" element, so right-to-left or
 * control-laden text cannot reorder anything around it.
 */

import * as ids from './post-ids.js';
import { compareFeed, isStale } from './feed-order.js';

const TIME_REFRESH_MS = 30000;
const HIGHLIGHT_MS = 2500;

export function postTime(post) {
  const ts = Number(post.ts);
  return new Date(Number.isFinite(ts) && ts > 0 ? ts : ids.timeOf(post.id));
}

export function relativeTime(date, now) {
  const seconds = Math.round((now - date.getTime()) / 1000);
  // Negative values are clock skew between us and the server.
  if (seconds < 60) return 'just now';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + ' min ago';
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return hours + ' h ago';
  const days = Math.floor(hours / 24);
  if (days < 7) return days === 1 ? 'yesterday' : days + ' days ago';
  const options = { month: 'short', day: 'numeric' };
  if (date.getFullYear() !== new Date(now).getFullYear()) options.year = 'numeric';
  return date.toLocaleDateString(undefined, options);
}

function exactTime(date) {
  return date.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'medium' });
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function button(label, action) {
  const b = element('button', 'link-button', label);
  b.type = 'button';
  b.dataset.action = action;
  return b;
}

// The parts every item has: a header with the name, then the message.
function fill(li, username, message, side) {
  const header = element('header', 'post-header');
  const name = element('strong', 'username', String(username || ''));
  name.dir = 'auto';
  header.append(name, document.createTextNode(' '), side);
  const body = element('p', 'message', String(message || ''));
  body.dir = 'auto';
  li.replaceChildren(header, body);
}

export class Feed {
  /**
   * @param {object} options
   *   list: the <ol> of the feed
   *   empty: the element shown when the wall has no posts
   *   onAction(action, clientId): 'edit' | 'retry' | 'discard' on a failed post
   *   decorate(post): optional, an element of buttons for a post, or null
   *   onPostAction(action, id, button): optional, a click on such a button
   *   onLikes(li, post): optional, only the post's likes changed: update
   *     what decorate() made (else the post is drawn again)
   *   compare(a, b): optional, the order (feed-order.js; default compareFeed)
   */
  constructor(options) {
    this.list = options.list;
    this.empty = options.empty;
    this.onAction = options.onAction;
    this.decorate = options.decorate || null;
    this.onPostAction = options.onPostAction || function () {};
    this.onLikes = options.onLikes || null;
    this.compare = options.compare || compareFeed;
    this.posts = new Map(); // id -> <li>
    this.data = new Map(); // id -> the post as last shown
    this.pending = new Map(); // client_id -> <li>
    this.deleted = new Set(); // ids deleted during this visit
    this.loaded = false;

    this.list.addEventListener('click', (event) => {
      const target = event.target.closest('button[data-action]');
      const li = target && target.closest('li');
      if (!li) return;
      if (li.classList.contains('pending')) {
        this.onAction(target.dataset.action, li.dataset.clientId);
      } else if (li.dataset.id) {
        this.onPostAction(target.dataset.action, li.dataset.id, target);
      }
    });
    setInterval(() => this.refreshTimes(), TIME_REFRESH_MS);
    // Timers are throttled in background tabs; catch up when seen again.
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.refreshTimes();
    });
  }

  // --------------------------------------------------------------- posts

  /**
   * Show a post unless it was deleted; one shown already is brought up to
   * date (pinned, approved). Returns true if it is new here.
   *
   * @param {object} options  arrived: highlight it as a new arrival;
   *   revive: the server says it is on the wall now (live, or a re-join's
   *   ack), even if it was deleted or hidden earlier in this visit (a
   *   restored post); outside: it is older than the posts loaded so far, so
   *   only update it if shown (it comes in order with "Load older"), unless
   *   it is pinned
   */
  merge(post, options) {
    if (!post || typeof post !== 'object' || !ids.isId(post.id)) return false;
    if (post.status === 'hidden') {
      this.remove(post.id);
      return false;
    }
    if (options && options.revive) this.deleted.delete(post.id);
    if (this.deleted.has(post.id)) return false;
    const mine = typeof post.client_id === 'string' ? this.pending.get(post.client_id) : null;
    if (this.posts.has(post.id)) {
      if (mine) this.dropPending(post.client_id);
      const shown = this.data.get(post.id);
      if (isStale(post, shown)) return false;
      const li = this.posts.get(post.id);
      if (shown.status !== post.status || Boolean(shown.pinned) !== Boolean(post.pinned)) {
        this.show(li, post);
      } else if ((Number(shown.likes) || 0) !== (Number(post.likes) || 0)) {
        this.showLikes(li, post);
      } else {
        this.data.set(post.id, post); // the same, at its newest rev
      }
      return false;
    }
    if (options && options.outside && !post.pinned) return false;
    let li;
    if (mine) {
      // Our "sending…" item becomes the post, where it stands.
      li = mine;
      this.pending.delete(post.client_id);
      delete li.dataset.clientId;
    } else {
      li = element('li', 'post');
    }
    this.posts.set(post.id, li);
    this.show(li, post);
    if (options && options.arrived) this.highlight(li);
    this.updateEmpty();
    return true;
  }

  // Fill a post's <li> from the post, and put it in its place.
  show(li, post) {
    this.data.set(post.id, post);
    const pinned = Boolean(post.pinned);
    const held = post.status === 'pending';
    li.className = 'post' + (pinned ? ' pinned' : '') + (held ? ' held' : '');
    li.dataset.id = post.id;
    li.dataset.likes = String(Number(post.likes) || 0);
    if (pinned) {
      li.dataset.pinned = '1';
    } else {
      delete li.dataset.pinned;
    }
    const date = postTime(post);
    const time = element('time', 'post-time', relativeTime(date, Date.now()));
    time.dateTime = date.toISOString();
    time.title = exactTime(date);
    let side = time;
    if (pinned || held) {
      side = element('span', 'post-side');
      if (pinned) side.append(element('span', 'post-badge', 'Pinned'), ' ');
      if (held) side.append(element('span', 'post-state', 'waiting for approval'), ' ');
      side.append(time);
    }
    fill(li, post.username, post.message, side);
    const extra = this.decorate ? this.decorate(post) : null;
    if (extra) li.append(extra);
    this.place(li);
  }

  // Only the likes changed: update them in place and move the post if the
  // order depends on them.
  showLikes(li, post) {
    this.data.set(post.id, post);
    li.dataset.likes = String(Number(post.likes) || 0);
    if (this.onLikes) {
      this.onLikes(li, post);
    } else {
      this.show(li, post);
    }
    this.place(li);
  }

  /**
   * The count a like's ack gave (or a like not yet acked): shown until a
   * version of the post with a higher `rev` arrives. Keeps the `rev`.
   */
  setLikes(id, likes) {
    const li = this.posts.get(id);
    if (!li) return;
    this.showLikes(li, Object.assign({}, this.data.get(id), { likes: likes }));
  }

  /** Show a post again as it is (its buttons may have changed). */
  refresh(id) {
    const li = this.posts.get(id);
    if (li) this.show(li, this.data.get(id));
  }

  // Put a post's <li> in its place (this.compare), below the outbox items.
  place(li) {
    const me = li.dataset;
    const last = this.list.lastElementChild;
    if (last && last !== li && !last.classList.contains('pending')
        && this.compare(last.dataset, me) < 0) {
      this.list.append(li); // the usual case when paging back
      return;
    }
    let before = this.list.firstElementChild;
    while (before && (before === li || before.classList.contains('pending')
           || this.compare(before.dataset, me) < 0)) {
      before = before.nextElementSibling;
    }
    if (li.nextElementSibling !== before || li.parentNode !== this.list) {
      this.list.insertBefore(li, before);
    }
  }

  /** A post was deleted: take it out, and never show it again. */
  remove(id) {
    this.deleted.add(id);
    const li = this.posts.get(id);
    if (li) {
      this.posts.delete(id);
      this.data.delete(id);
      li.remove();
      this.updateEmpty();
    }
  }

  /** Take a post off this feed without forgetting it: it may come back
   * (a bounded feed making room). */
  evict(id) {
    const li = this.posts.get(id);
    if (!li) return;
    this.posts.delete(id);
    this.data.delete(id);
    li.remove();
    this.updateEmpty();
  }

  /** Forget every post (retention dropped some: start again). */
  reset() {
    this.posts.forEach((li) => li.remove());
    this.posts.clear();
    this.data.clear();
  }

  /** The newest post on the wall (visible) shown, or null. */
  newestId() {
    let newest = null;
    this.data.forEach((post, id) => {
      if (post.status !== 'pending') newest = ids.newer(newest, id);
    });
    return newest;
  }

  highlight(li) {
    li.classList.add('arrived');
    const done = function () {
      li.classList.remove('arrived');
    };
    li.addEventListener('animationend', done, { once: true });
    // No animationend under prefers-reduced-motion or in a hidden tab.
    setTimeout(done, HIGHLIGHT_MS);
  }

  refreshTimes() {
    const now = Date.now();
    this.list.querySelectorAll('time.post-time').forEach(function (time) {
      time.textContent = relativeTime(new Date(time.dateTime), now);
    });
  }

  setLoaded() {
    this.loaded = true;
    this.updateEmpty();
  }

  updateEmpty() {
    this.empty.hidden = !this.loaded || this.list.firstElementChild !== null;
  }

  // -------------------------------------------------------------- outbox

  /** Show (or update) an outbox entry: "sending…", or why it failed. */
  showPending(entry) {
    let li = this.pending.get(entry.client_id);
    const isNew = !li;
    if (isNew) {
      li = element('li', 'post pending');
      li.dataset.clientId = entry.client_id;
      li.dataset.created = String(entry.created);
      this.pending.set(entry.client_id, li);
    }
    clearTimeout(li.dropTimer);
    const failed = entry.state === 'failed';
    li.classList.toggle('failed', failed);
    const state = element('span', 'post-state', failed ? 'not posted' : 'sending…');
    fill(li, entry.username, entry.message, state);
    if (failed) {
      const reason = element('p', 'post-error', entry.error || 'The server refused this post.');
      const actions = element('div', 'post-actions');
      actions.append(button('Edit', 'edit'));
      // Retrying what the server found invalid would fail the same way.
      if (entry.code !== 'invalid') actions.append(button('Retry', 'retry'));
      actions.append(button('Discard', 'discard'));
      li.append(reason, actions);
    }
    if (isNew) {
      // Newest first among the outbox items, all above the posts.
      let before = this.list.firstElementChild;
      while (before && before.classList.contains('pending')
             && Number(before.dataset.created) > entry.created) {
        before = before.nextElementSibling;
      }
      this.list.insertBefore(li, before);
      this.updateEmpty();
    }
  }

  /**
   * An outbox entry is gone. When another tab settled it, its post is
   * probably on its way here too: keep the item a moment so that the post
   * replaces it in place instead of blinking out and in.
   */
  removePending(clientId, later) {
    const li = this.pending.get(clientId);
    if (!li) return;
    if (later) {
      clearTimeout(li.dropTimer);
      li.dropTimer = setTimeout(() => this.dropPending(clientId), 3000);
    } else {
      this.dropPending(clientId);
    }
  }

  dropPending(clientId) {
    const li = this.pending.get(clientId);
    if (!li) return;
    this.pending.delete(clientId);
    li.remove();
    this.updateEmpty();
  }
}
