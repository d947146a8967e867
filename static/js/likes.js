/*
 * The like button of a post: its count, aria-pressed, and the click.
 *
 * A click shows at once (pressed or not, the count one up or down) and
 * sends `like` or `unlike`; the ack's `likes` and `liked` then stand until
 * a version of the post with a higher `rev` arrives (`post updated`, which
 * the feed applies). Clicks while one is in flight only change what we
 * want; when the ack comes back saying otherwise, the other event goes.
 * A refusal or no answer puts the button back as it was.
 *
 * Which posts we like is kept per wall in localStorage (likes-store.js),
 * since the server tells it only in acks; other tabs follow through the
 * storage event.
 */

import { LIKED_MAX, parseLiked, storageKey, withLiked } from './likes-store.js';

const LIKE_TIMEOUT_MS = 10000;

function storage() {
  try {
    const s = self.localStorage;
    s.setItem('wall.likes.probe', '1');
    s.removeItem('wall.likes.probe');
    return s;
  } catch (e) {
    return null;
  }
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

export class Likes {
  /**
   * @param {object} options
   *   wall, conn (connection.js)
   *   onCount(id, likes): show this count for the post (feed.setLikes)
   *   onStored(): another tab changed which posts we like
   */
  constructor(options) {
    this.wall = options.wall;
    this.conn = options.conn;
    this.onCount = options.onCount;
    this.onStored = options.onStored || function () {};
    this.key = storageKey(this.wall);
    this.storage = storage();
    this.liked = this.load();
    this.inflight = new Set(); // ids with a like or unlike on the way

    self.addEventListener('storage', (event) => {
      if (event.key !== this.key && event.key !== null) return;
      this.liked = this.load();
      this.onStored();
    });
  }

  load() {
    const raw = this.storage === null ? null : this.storage.getItem(this.key);
    return new Set(raw ? parseLiked(raw) : []);
  }

  isLiked(id) {
    return this.liked.has(id);
  }

  setLiked(id, liked) {
    if (this.liked.has(id) === liked) return;
    if (liked) {
      this.liked.add(id);
    } else {
      this.liked.delete(id);
    }
    if (this.storage === null) return;
    const list = withLiked(parseLiked(this.storage.getItem(this.key) || '[]'), id, liked);
    try {
      this.storage.setItem(this.key, JSON.stringify(list));
    } catch (e) {
      // Full: this page still knows; a reload will not.
    }
    if (this.liked.size > LIKED_MAX) this.liked = new Set(list);
  }

  /** A like button for a visible post (none for one waiting for approval). */
  button(post) {
    if (post.status === 'pending') return null;
    const b = element('button', 'like-button');
    b.type = 'button';
    b.dataset.action = 'like';
    b.append(element('span', 'like-icon', '\u2665'), element('span', 'visually-hidden', 'Like'),
      element('span', 'like-count'));
    b.firstChild.setAttribute('aria-hidden', 'true');
    this.update(b, post);
    return b;
  }

  /** Bring a button up to date with the post (its likes) and our like. */
  update(b, post) {
    if (!b) return;
    const count = String(Math.max(0, Number(post.likes) || 0));
    const shown = b.querySelector('.like-count');
    if (shown.textContent !== count) shown.textContent = count;
    b.setAttribute('aria-pressed', this.isLiked(post.id) ? 'true' : 'false');
  }

  /** A click on the button of post `id`, which shows `likes` now. */
  toggle(id, likes) {
    const want = !this.isLiked(id);
    this.setLiked(id, want);
    this.onCount(id, Math.max(0, (Number(likes) || 0) + (want ? 1 : -1)));
    this.send(id, likes);
  }

  // `before`: the count shown before the first click of this round, to
  // put back if the server does not answer.
  send(id, before) {
    if (this.inflight.has(id)) return;
    this.inflight.add(id);
    const want = this.isLiked(id);
    this.conn.emit(want ? 'like' : 'unlike', { wall: this.wall, id: id }, LIKE_TIMEOUT_MS)
      .then((ack) => {
        this.inflight.delete(id);
        if (ack && ack.ok) {
          if (this.isLiked(id) !== ack.liked) {
            this.send(id, ack.likes); // clicked again meanwhile
            return;
          }
          this.onCount(id, ack.likes);
        } else {
          // not_found (hidden or deleted meanwhile), forbidden: as before.
          this.setLiked(id, !want);
          this.onCount(id, before);
        }
      }, () => {
        this.inflight.delete(id);
        this.setLiked(id, !want);
        this.onCount(id, before);
      });
  }
}
