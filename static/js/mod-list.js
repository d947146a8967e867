/*
 * A list of posts an organiser acts on: the queue (Approve, Reject) and the
 * hidden posts (Restore). One item is in the tab order at a time (a roving
 * tabindex): arrow keys, Home and End move through the list, and keys
 * (`a`, `r` in the queue) act on the focused post. When a post leaves the
 * list, focus goes to the one that took its place, so a keyboard user goes
 * on through the queue. User text reaches the DOM through textContent only.
 */

import { moveFocus, focusAfterRemoval, upsert, reconcile } from './manage-rules.js';
import { postTime, relativeTime } from './feed.js';

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

export class ModList {
  /**
   * @param {object} options
   *   name: 'queue' | 'hidden' (manage-rules.js listOf)
   *   list: the <ol>; empty: shown when it has none; count: where the number goes
   *   actions: [{action, label, key?}] the buttons of each item
   *   keyAction(event): optional, the action a key press on an item means
   *   onAction(action, post): returns a promise; the item waits meanwhile
   */
  constructor(options) {
    Object.assign(this, options);
    this.posts = [];
    this.focusId = null;
    this.list.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-action]');
      const li = button && button.closest('li[data-id]');
      if (li) this.act(button.dataset.action, li.dataset.id);
    });
    this.list.addEventListener('keydown', (event) => this.onKey(event));
    this.list.addEventListener('focusin', (event) => {
      const li = event.target.closest('li[data-id]');
      if (li) this.setFocusable(li.dataset.id);
    });
    this.render();
  }

  has(id) {
    return this.posts.some((p) => p.id === id);
  }

  /** Replace the whole list (from the API), keeping what arrived live meanwhile. */
  replace(snapshot, touched) {
    this.posts = reconcile(this.name, snapshot, touched || new Map());
    this.render();
  }

  /** A post belongs here now (it arrived, or changed). */
  put(post) {
    this.posts = upsert(this.name, this.posts, post);
    this.render();
  }

  /** A post is no longer here. */
  drop(id) {
    const i = this.posts.findIndex((p) => p.id === id);
    if (i < 0) return;
    const hadFocus = this.list.contains(document.activeElement);
    this.posts.splice(i, 1);
    if (this.focusId === id) {
      const next = focusAfterRemoval(i, this.posts.length);
      this.focusId = next === null ? null : this.posts[next].id;
    }
    this.render();
    if (hadFocus) this.focusItem(this.focusId);
  }

  act(action, id) {
    const post = this.posts.find((p) => p.id === id);
    const li = this.item(id);
    if (!post || !li || li.classList.contains('busy')) return;
    li.classList.add('busy');
    li.setAttribute('aria-busy', 'true');
    li.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    const error = li.querySelector('.item-error');
    error.textContent = '';
    this.onAction(action, post).then(() => {
      this.drop(id); // the live update may have done so already
    }, (err) => {
      const again = this.item(id);
      if (!again) return;
      again.classList.remove('busy');
      again.removeAttribute('aria-busy');
      again.querySelectorAll('button').forEach((b) => { b.disabled = false; });
      again.querySelector('.item-error').textContent = err.message;
    });
  }

  onKey(event) {
    const li = event.target.closest('li[data-id]');
    if (!li) return;
    const items = Array.from(this.list.children);
    const i = items.indexOf(li);
    const to = moveFocus(event.key, i, items.length);
    if (to !== null) {
      event.preventDefault();
      this.focusItem(items[to].dataset.id);
      return;
    }
    // Letters act only on the item itself, not inside a field or on a button's own keys.
    if (event.target !== li || !this.keyAction) return;
    const action = this.keyAction(event);
    if (action) {
      event.preventDefault();
      this.act(action, li.dataset.id);
    }
  }

  item(id) {
    return id === null ? null : this.list.querySelector('li[data-id="' + CSS.escape(id) + '"]');
  }

  setFocusable(id) {
    this.focusId = id;
    Array.from(this.list.children).forEach((li) => {
      const current = li.dataset.id === id;
      li.tabIndex = current ? 0 : -1;
      // Tab from the current item reaches its buttons; other items' wait.
      li.querySelectorAll('button').forEach((b) => { b.tabIndex = current ? 0 : -1; });
    });
  }

  focusItem(id) {
    const li = this.item(id);
    if (li) {
      this.setFocusable(id);
      li.focus();
    }
  }

  render() {
    if (this.focusId === null || !this.has(this.focusId)) {
      this.focusId = this.posts.length ? this.posts[0].id : null;
    }
    const now = Date.now();
    const items = this.posts.map((post) => {
      const old = this.item(post.id);
      if (old && old.classList.contains('busy')) return old;
      return this.view(post, now);
    });
    this.list.replaceChildren.apply(this.list, items);
    this.setFocusable(this.focusId);
    this.empty.hidden = this.posts.length > 0;
    if (this.count) this.count.textContent = String(this.posts.length);
  }

  view(post, now) {
    const li = element('li', 'mod-item');
    li.dataset.id = post.id;
    const header = element('header', 'post-header');
    const name = element('strong', 'username', String(post.username || ''));
    name.dir = 'auto';
    const date = postTime(post);
    const time = element('time', 'post-time', relativeTime(date, now));
    time.dateTime = date.toISOString();
    header.append(name, ' ', time);
    const message = element('p', 'message', String(post.message || ''));
    message.dir = 'auto';
    const actions = element('div', 'mod-actions');
    this.actions.forEach((a) => {
      const b = element('button', 'button button-small' + (a.secondary ? ' button-secondary' : ''), a.label);
      b.type = 'button';
      b.dataset.action = a.action;
      if (a.key) b.setAttribute('aria-keyshortcuts', a.key);
      actions.append(b);
    });
    const error = element('p', 'form-error item-error');
    error.setAttribute('role', 'alert');
    li.append(header, message, actions, error);
    const label = this.actions.filter((a) => a.key).map((a) => a.key + ': ' + a.label).join(', ');
    if (label) li.setAttribute('aria-description', label);
    return li;
  }
}
