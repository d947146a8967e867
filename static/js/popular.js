/*
 * The wall page's tabs: Newest (the feed) and Popular (the most liked
 * posts, then the newest, as `GET .../posts?sort=popular` orders them).
 *
 * Popular is a second feed (feed.js with the popular order) of at most
 * POPULAR_MAX posts. It is loaded from the server whenever it is shown
 * and after every (re)join while shown; meanwhile every post the page
 * accepts (live, its new counts from `post updated`) is offered to it, so
 * it re-orders itself as people like, and a new post goes where its count
 * puts it. Posts deleted or hidden leave it as they leave the feed.
 *
 * The tabs follow the ARIA tabs pattern: the arrow keys, Home and End move
 * between them (roving tabindex), and a tab shows its panel when chosen.
 */

import { comparePopular } from './feed-order.js';

export const POPULAR_MAX = 50;

export class PopularTab {
  /**
   * @param {object} options
   *   tabs: [newest tab, popular tab] (buttons, role=tab)
   *   panels: [newest panel, popular panel]
   *   feed: the popular Feed; url: the wall's posts URL
   *   error: where a failed load says so
   */
  constructor(options) {
    Object.assign(this, options);
    this.selected = 0;
    this.loading = null;
    this.tabs.forEach((tab, i) => {
      tab.addEventListener('click', () => this.select(i));
      tab.addEventListener('keydown', (event) => this.onKey(event, i));
    });
  }

  get shown() {
    return this.selected === 1;
  }

  select(i) {
    this.selected = i;
    this.tabs.forEach((tab, j) => {
      tab.setAttribute('aria-selected', j === i ? 'true' : 'false');
      tab.tabIndex = j === i ? 0 : -1;
      this.panels[j].hidden = j !== i;
    });
    if (this.shown) this.refresh();
  }

  onKey(event, i) {
    const last = this.tabs.length - 1;
    const to = { ArrowRight: i === last ? 0 : i + 1, ArrowLeft: i === 0 ? last : i - 1, Home: 0, End: last }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    this.select(to);
    this.tabs[to].focus();
  }

  /** Load the most liked posts again (one request at a time). */
  refresh() {
    if (this.loading !== null) return this.loading;
    this.error.textContent = '';
    this.loading = fetch(this.url + '?sort=popular&limit=' + POPULAR_MAX, {
      headers: { Accept: 'application/json' },
    }).then((resp) => {
      if (!resp.ok) throw new Error('HTTP ' + resp.status);
      return resp.json();
    }).then((data) => {
      const posts = Array.isArray(data.posts) ? data.posts : [];
      posts.forEach((post) => this.feed.merge(post));
      this.trim();
      this.feed.setLoaded();
    }, () => {
      this.error.textContent = 'Could not load the most liked posts. Try again in a moment.';
    }).then(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /** A post the page accepted (with its count as it is now). */
  offer(post) {
    if (!post || post.status !== 'visible') return;
    this.feed.merge(post);
    this.trim();
  }

  remove(id) {
    this.feed.remove(id);
  }

  // Keep the POPULAR_MAX first: the rest may come back with more likes.
  trim() {
    if (this.feed.data.size <= POPULAR_MAX) return;
    Array.from(this.feed.data.values()).sort(comparePopular).slice(POPULAR_MAX)
      .forEach((post) => this.feed.evict(post.id));
  }
}
