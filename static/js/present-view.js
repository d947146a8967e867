/*
 * The projector's posts on screen: as many as fit, never more.
 *
 * Each render walks the model's order (present-model.js) and puts one card
 * after the other into its list, reusing the card a post had, and stops at
 * the first card that does not fit inside the list's box (the posts list
 * flows in columns; overflow is hidden): that one and every later one are
 * taken out. So the DOM holds only what is on screen, there is never a
 * scrollbar, and the oldest (or least liked) drop off as new ones come.
 * Renders are coalesced to one per animation frame however fast posts
 * arrive; a post that came live gets the `arrived` class (a short
 * animation, none under prefers-reduced-motion).
 *
 * User text only through textContent, each name and message bidi-isolated
 * with dir="auto", as on the wall page.
 */

import { postTime, relativeTime } from './feed.js';

// Pinned posts spotlighted side by side at most; more pinned ones lead
// the posts' flow, marked.
export const SPOTLIGHT_MAX = 2;
const TIME_REFRESH_MS = 30000;

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

// Within the list's box (the list is the cards' offsetParent)? A pixel of
// slack for rounding.
function fits(list, li) {
  return li.offsetTop + li.offsetHeight <= list.clientHeight + 1
    && li.offsetLeft + li.offsetWidth <= list.clientWidth + 1;
}

export class PresentView {
  /**
   * @param {object} els  root, spotlight (ol), posts (ol), empty
   * @param {PresentModel} model
   */
  constructor(els, model) {
    this.els = els;
    this.model = model;
    this.cards = { spotlight: new Map(), posts: new Map() }; // id -> <li> on screen
    this.drawn = new WeakMap(); // <li> -> the post it shows
    this.frame = null;
    self.addEventListener('resize', () => this.schedule());
    setInterval(() => this.schedule(), TIME_REFRESH_MS);
  }

  schedule() {
    if (this.frame !== null) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.render();
    });
  }

  render() {
    const view = this.model.view();
    const now = Date.now();
    const shown = this.fill('spotlight', view.pinned.slice(0, SPOTLIGHT_MAX), now)
      + this.fill('posts', view.pinned.slice(SPOTLIGHT_MAX).concat(view.posts), now);
    this.model.clearArrivals();
    this.els.empty.hidden = !this.model.loaded || view.pinned.length + view.posts.length > 0;
    // For the tests and anyone curious: what the page holds and shows.
    this.els.root.dataset.held = String(this.model.data.size);
    this.els.root.dataset.shown = String(shown);
  }

  // Fill one list with the posts that fit, in order; returns how many.
  fill(which, posts, now) {
    const list = this.els[which];
    const before = this.cards[which];
    const after = new Map();
    let i = 0;
    for (const post of posts) {
      let li = before.get(post.id);
      const fresh = !li;
      if (fresh) {
        li = element('li', 'present-post' + (which === 'spotlight' ? ' spotlight' : ''));
        li.dataset.id = post.id;
      }
      if (this.drawn.get(li) !== post) this.draw(li, post);
      this.showTime(li, post, now);
      const at = list.children[i] || null;
      if (li !== at) list.insertBefore(li, at);
      if (!fits(list, li)) {
        li.remove();
        break;
      }
      if (fresh && this.model.takeArrival(post.id)) this.animate(li);
      after.set(post.id, li);
      i += 1;
    }
    while (list.children.length > i) list.lastElementChild.remove();
    this.cards[which] = after;
    return i;
  }

  draw(li, post) {
    this.drawn.set(li, post);
    const message = element('p', 'present-message', String(post.message || ''));
    message.dir = 'auto';
    const meta = element('p', 'present-meta');
    const name = element('span', 'present-username', String(post.username || ''));
    name.dir = 'auto';
    meta.append(name);
    const likes = Number(post.likes) || 0;
    if (likes > 0 || this.model.sort === 'popular') {
      const count = element('span', 'present-likes', '\u2665 ' + likes);
      count.setAttribute('aria-label', likes === 1 ? '1 like' : likes + ' likes');
      meta.append(count);
    }
    if (post.pinned) meta.append(element('span', 'present-badge', 'Pinned'));
    meta.append(element('time', 'present-time'));
    li.replaceChildren(message, meta);
  }

  showTime(li, post, now) {
    const time = li.querySelector('time');
    const date = postTime(post);
    const text = relativeTime(date, now);
    if (time.textContent !== text) {
      time.textContent = text;
      time.dateTime = date.toISOString();
    }
  }

  animate(li) {
    li.classList.add('arrived');
    li.addEventListener('animationend', function () {
      li.classList.remove('arrived');
    }, { once: true });
  }
}
