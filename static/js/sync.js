/*
 * Keeping the feed complete: no gaps, no doubles, nothing lost.
 *
 * On every (re)connection the page joins the wall with `after` = the newest
 * id up to which it holds every post, merges the ack by id and, when the
 * ack says `more`, pages the rest in over HTTP (`?after=`) while live posts
 * keep arriving. `truncated` (retention dropped posts after our position)
 * starts the wall afresh instead of showing a silent gap. A `resync` from
 * the server makes it re-join the same way; `post deleted` (and the
 * `deleted` list of a re-join or catch-up page) takes a post out for good;
 * "Load older" pages back with `?before=`.
 *
 * Moderation reaches the feed the same ways: `post updated` replaces a post
 * (pinned, unpinned, its likes; for organisers also approved or hidden; the
 * feed keeps the version with the higher `rev`), every join ack brings the
 * wall's `pinned` posts and `settings` as they are now, and `wall updated`
 * brings new settings. A post the server says is on the wall (live, or in a
 * re-join's ack) shows even if it was hidden earlier in this visit: it was
 * restored. An update or re-join of a post older than the feed has loaded
 * (its likes changed) is left for "Load older", unless it is pinned. With
 * `key` the page joins as the wall's organiser.
 *
 * Private walls: a join refused `forbidden` goes to onRefused (the page
 * asks for the passcode); `wall updated` saying the wall is private makes
 * the page re-join, since the server takes watchers without the new grant
 * off the wall right after it, and only a join tells which this page is.
 *
 * The feed is anything with feed.js's merge, remove, reset, newestId,
 * setLoaded and data (the projector's bounded model is one); the outbox,
 * the announcer and the "Load older" button are optional.
 */

import * as ids from './post-ids.js';
import { updateAction } from './feed-order.js';

const OLDER_PAGE = 50;
const CATCH_UP_PAGE = 200;
const RETRY_MS = 2000;
const RETRY_MAX_MS = 10000;
const CATCH_UP_TRIES = 10;

function delay(ms) {
  return new Promise(function (resolve) {
    setTimeout(resolve, ms);
  });
}

function getJson(url) {
  return fetch(url, { headers: { Accept: 'application/json' } }).then(function (resp) {
    if (!resp.ok) throw new Error('HTTP ' + resp.status);
    return resp.json();
  });
}

export class WallSync {
  /**
   * @param {object} options
   *   wall, conn, feed; outbox, announcer: optional
   *   onOnline(count)
   *   older: optional, the "Load older" button; olderError: where its
   *     failures show
   *   key: optional, the organiser key to join with
   *   onSettings(settings): optional, the wall's public settings (each ack,
   *     `wall updated`)
   *   onJoined(ack): optional, after each successful join ack is merged
   *   onRefused(ack): optional, the join was refused for good (a wrong key)
   *   onOther(event, data): optional, the wall's other server events (and
   *     post updated, post deleted after the feed has them)
   *   onAccepted(post): optional, a post reached the feed (or was there)
   *   onRemoved(id): optional, a post was deleted or hidden
   */
  constructor(options) {
    this.key = null;
    this.outbox = this.announcer = this.older = this.olderError = null;
    this.onSettings = this.onJoined = this.onRefused = this.onOther = function () {};
    this.onAccepted = this.onRemoved = function () {};
    Object.assign(this, options);
    // Newest id up to which the feed holds *every* post. Live posts only
    // move it once the join and its catch-up are complete (`synced`):
    // before that a gap may still be open below them, and resuming from
    // them after a disconnect would skip the gap for good.
    this.syncedId = null;
    this.synced = false;
    // Bumped on every (re)join and on going offline; async work started
    // for an older one quietly gives up.
    this.generation = 0;
    this.session = null;
    // True until the first join ack: what it brings is history, not news.
    this.fresh = true;
    this.oldestId = null;
    this.hasOlder = false;
    this.loadingOlder = false;
    this.resets = 0;
    this.postsUrl = '/api/walls/' + encodeURIComponent(this.wall) + '/posts';

    this.conn.on('state', (state) => this.onState(state));
    this.conn.on('event', (event, data) => this.onEvent(event, data));
    if (this.older !== null) this.older.addEventListener('click', () => this.loadOlder());
  }

  /**
   * Show a post, from wherever it came: 'history' (initial load, "Load
   * older"), 'catch-up' (missed while away), 'rejoin' (a re-join's ack),
   * 'live', 'update' (`post updated`) or 'mine' (our ack).
   */
  accept(post, how) {
    if (!post || typeof post !== 'object') return false;
    if (post.wall !== undefined && post.wall !== this.wall) return false;
    const mine = how === 'mine' || (this.outbox !== null && this.outbox.has(post.client_id));
    const revive = how === 'live' || how === 'rejoin' || how === 'update';
    const added = this.feed.merge(post, {
      arrived: how !== 'history',
      revive: revive,
      outside: (how === 'update' || how === 'rejoin') && this.isOlderThanLoaded(post.id),
    });
    if (this.outbox !== null) this.outbox.settle(post);
    this.onAccepted(post);
    const news = how !== 'history' && how !== 'update';
    if (added && !mine && news && this.announcer !== null) this.announcer.announce(post);
    return added;
  }

  // True for a post older than the oldest loaded when older ones exist:
  // the page has not shown that part of the wall yet.
  isOlderThanLoaded(id) {
    return this.hasOlder && ids.isId(this.oldestId) && ids.isId(id)
      && ids.compare(id, this.oldestId) < 0;
  }

  onState(state) {
    if (this.outbox !== null) this.outbox.setLive(state.state === 'live');
    if (state.state === 'live') {
      // A new session is a new socket: it is on no wall until we join.
      if (state.session !== this.session) {
        this.session = state.session;
        this.rejoin();
      }
    } else {
      this.session = null;
      this.generation += 1;
      this.synced = false;
    }
  }

  // One handler per server event the hub routes to this wall's tabs.
  onEvent(event, data) {
    if (!data || data.wall !== this.wall) return;
    if (event === 'new post') {
      // Someone (maybe us) posted: show it, and once synced, we hold
      // everything up to it.
      this.accept(data, 'live');
      if (this.synced && ids.isId(data.id)) this.syncedId = ids.newer(this.syncedId, data.id);
    } else if (event === 'online') {
      this.onOnline(data.count);
    } else if (event === 'resync') {
      // The server may have skipped posts to us: fetch from where we are.
      if (this.session !== null) this.rejoin();
    } else if (event === 'post deleted') {
      this.remove(data.id);
      this.onOther(event, data);
    } else if (event === 'post updated') {
      if (data.post && updateAction(data.post) === 'show') {
        this.accept(data.post, 'update');
      } else if (data.post) {
        this.remove(data.post.id);
      }
      this.onOther(event, data);
    } else if (event === 'wall updated') {
      if (data.settings) this.onSettings(data.settings);
      // Private now, or a new passcode: whether this page may stay, only a
      // join tells (the server has taken it off the wall if not). It
      // resumes from syncedId, so nothing is missed either way.
      const settings = data.settings || {};
      if (settings.visibility === 'private' && !this.key && this.session !== null) this.rejoin();
    } else {
      this.onOther(event, data);
    }
  }

  rejoin() {
    this.generation += 1;
    this.synced = false;
    this.join(this.generation, 0);
  }

  join(gen, failures) {
    const after = this.syncedId;
    const retry = (seconds) => {
      const wait = seconds > 0 ? seconds * 1000 : Math.min(RETRY_MS * (failures + 1), RETRY_MAX_MS);
      setTimeout(() => {
        if (gen === this.generation) this.join(gen, failures + 1);
      }, wait);
    };
    this.conn.join(this.wall, after, this.key).then((ack) => {
      if (gen !== this.generation) return;
      if (ack && ack.ok === false && (ack.error === 'forbidden' || ack.error === 'invalid')) {
        this.onRefused(ack);
        return;
      }
      if (!ack || !ack.ok) {
        retry(ack && Number(ack.retry_after));
        return;
      }
      this.onOnline(ack.online);
      if (ack.truncated) {
        this.restart();
        return;
      }
      this.dropDeleted(ack.deleted);
      const posts = Array.isArray(ack.posts) ? ack.posts : [];
      const how = this.fresh ? 'history' : 'rejoin';
      posts.forEach((post) => this.accept(post, how));
      if (Array.isArray(ack.pinned)) this.showPinned(ack.pinned, how);
      if (ack.settings) this.onSettings(ack.settings);
      if (after === null && this.oldestId === null) {
        this.oldestId = posts.length ? posts[0].id : null;
        this.hasOlder = Boolean(ack.more) && posts.length > 0;
        this.showOlder();
      }
      this.fresh = false;
      this.feed.setLoaded();
      this.onJoined(ack);
      if (after !== null && ack.more) {
        const last = posts.length ? posts[posts.length - 1].id : after;
        this.catchUp(gen, last);
      } else {
        this.markSynced();
      }
    }, (err) => {
      // 'offline': the next 'live' state re-joins anyway.
      if (gen === this.generation && err.message !== 'offline') retry(0);
    });
  }

  // Page in what the join ack had no room for. Pages go from the last id
  // we got, never from the newest shown, as live posts keep arriving at
  // the top meanwhile.
  async catchUp(gen, cursor) {
    let failures = 0;
    while (gen === this.generation) {
      let data;
      try {
        data = await getJson(this.postsUrl + '?after=' + encodeURIComponent(cursor)
          + '&limit=' + CATCH_UP_PAGE);
      } catch (e) {
        failures += 1;
        // Give up for now; the next reconnect resumes from syncedId.
        if (failures >= CATCH_UP_TRIES) return;
        await delay(Math.min(RETRY_MS * failures, RETRY_MAX_MS));
        continue;
      }
      if (gen !== this.generation) return;
      if (data.truncated) {
        this.restart();
        return;
      }
      this.dropDeleted(data.deleted);
      const posts = Array.isArray(data.posts) ? data.posts : [];
      posts.forEach((post) => this.accept(post, 'catch-up'));
      const last = posts.length ? posts[posts.length - 1].id : null;
      if (!data.more || !ids.isId(last)) {
        this.markSynced();
        return;
      }
      cursor = last;
    }
  }

  // The wall's pinned posts as they are now: these show (first), and any
  // other shown as pinned was unpinned meanwhile.
  showPinned(pinned, how) {
    const now = new Set();
    pinned.forEach((post) => {
      if (!post || !ids.isId(post.id)) return;
      now.add(post.id);
      this.accept(Object.assign({}, post, { pinned: true }), how);
    });
    this.feed.data.forEach((post, id) => {
      if (post.pinned && !now.has(id)) this.feed.merge(Object.assign({}, post, { pinned: false }));
    });
  }

  // Posts deleted while we were away (listed by a join with `after` and
  // by catch-up pages).
  dropDeleted(list) {
    if (Array.isArray(list)) list.forEach((id) => this.remove(id));
  }

  remove(id) {
    this.feed.remove(id);
    this.onRemoved(id);
  }

  markSynced() {
    // Everything up to the join is in, and everything since arrived live
    // (the socket has been on the wall since the join), so the feed is
    // complete up to its newest post.
    this.syncedId = ids.newer(this.syncedId, this.feed.newestId());
    this.synced = true;
  }

  // Retention dropped posts we never saw: show the wall afresh rather
  // than pretend there is no gap.
  restart() {
    this.resets += 1;
    this.feed.reset();
    this.syncedId = null;
    this.oldestId = null;
    this.hasOlder = false;
    this.fresh = true;
    this.showOlder();
    this.rejoin();
  }

  // ----------------------------------------------------------- paging

  loadOlder() {
    if (this.loadingOlder || this.oldestId === null) return;
    const resets = this.resets;
    const hadFocus = document.activeElement === this.older;
    this.loadingOlder = true;
    this.older.disabled = true;
    this.older.textContent = 'Loading…';
    this.olderError.textContent = '';
    let first = null;
    getJson(this.postsUrl + '?before=' + encodeURIComponent(this.oldestId) + '&limit=' + OLDER_PAGE)
      .then((data) => {
        if (resets !== this.resets) return;
        const posts = Array.isArray(data.posts) ? data.posts : [];
        // Oldest first: merge newest first, so each one lands at the end.
        for (let i = posts.length - 1; i >= 0; i--) this.accept(posts[i], 'history');
        if (posts.length) {
          this.oldestId = ids.older(this.oldestId, posts[0].id);
          first = this.feed.posts.get(posts[posts.length - 1].id) || null;
        }
        this.hasOlder = Boolean(data.more) && posts.length > 0;
      }, () => {
        this.olderError.textContent = 'Could not load older posts. Try again.';
      })
      .then(() => {
        this.loadingOlder = false;
        this.older.disabled = false;
        this.older.textContent = 'Load older';
        this.showOlder();
        // The button went away under the keyboard: continue at the posts.
        if (hadFocus && this.older.hidden && first !== null) {
          first.tabIndex = -1;
          first.focus();
        }
      });
  }

  showOlder() {
    if (this.older !== null) this.older.hidden = !this.hasOlder;
  }
}
