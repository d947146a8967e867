/*
 * The post form: name (remembered), message, a live counter, Enter to post.
 *
 * The counter counts what the server counts (code points after NFC and
 * trimming, post-text.js), and the form never hands on a post the server
 * would refuse for its size. Enter posts, Shift+Enter starts a new line,
 * and Enter that confirms an input method's composition does neither.
 *
 * On a closed wall the form says so and takes nothing; a post that must
 * wait (slow mode, the rate limit) is counted down beside it.
 */

import * as text from './post-text.js';

const USERNAME_KEY = 'wall.username';

function load(key) {
  try {
    return self.localStorage.getItem(key);
  } catch (e) {
    return null; // storage disabled: the name is a nicety
  }
}

function save(key, value) {
  try {
    self.localStorage.setItem(key, value);
  } catch (e) { /* storage disabled or full */ }
}

export class Composer {
  /**
   * @param {object} els  form, username, message, counter, error, submit;
   *   closed: the line shown while the wall is closed; notice: a status line
   * @param {object} limits  message, username: maximum code points
   * @param {function} onSubmit  (username, message), both normalised
   */
  constructor(els, limits, onSubmit) {
    this.els = els;
    this.limits = limits;
    this.onSubmit = onSubmit;
    this.closed = false;
    this.waitTimer = null;

    const saved = load(USERNAME_KEY);
    if (saved && !els.username.value) els.username.value = saved;

    els.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    els.message.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    els.message.addEventListener('input', () => this.update());
    els.username.addEventListener('input', () => {
      this.showError('');
      els.username.removeAttribute('aria-invalid');
    });
    this.update();
  }

  update() {
    const n = text.length(text.normalize(this.els.message.value));
    const over = n > this.limits.message;
    this.els.counter.textContent = n + ' / ' + this.limits.message;
    this.els.counter.classList.toggle('over-limit', over);
    this.els.message.classList.toggle('over-limit', over);
    this.els.message.setAttribute('aria-invalid', over ? 'true' : 'false');
    this.els.submit.disabled = over || n === 0 || this.closed;
  }

  /** The wall is closed (or open again): the form says so and is disabled. */
  setClosed(closed) {
    if (closed === this.closed) return;
    this.closed = closed;
    this.els.username.disabled = closed;
    this.els.message.disabled = closed;
    if (this.els.closed) this.els.closed.hidden = !closed;
    this.update();
  }

  /**
   * A post waits until `until` (epoch ms): say so, counting down, e.g.
   * "Slow mode: your post goes out in 12 s."
   */
  showWait(prefix, until) {
    clearInterval(this.waitTimer);
    const tick = () => {
      const seconds = Math.ceil((until - Date.now()) / 1000);
      if (seconds <= 0) {
        clearInterval(this.waitTimer);
        this.waitTimer = null;
        this.els.notice.textContent = '';
        return;
      }
      this.els.notice.textContent = prefix + ' your post goes out in ' + seconds + ' s.';
    };
    tick();
    this.waitTimer = setInterval(tick, 1000);
  }

  submit() {
    if (this.closed) return;
    const username = text.normalize(this.els.username.value);
    const message = text.normalize(this.els.message.value);
    if (!username) {
      this.nameError('Please enter your name.');
      return;
    }
    if (text.length(username) > this.limits.username) {
      this.nameError('Your name can be at most ' + this.limits.username + ' characters.');
      return;
    }
    if (!message || text.length(message) > this.limits.message) {
      this.update();
      this.els.message.focus();
      return;
    }
    save(USERNAME_KEY, username);
    this.showError('');
    this.els.message.value = '';
    this.update();
    this.els.message.focus();
    this.onSubmit(username, message);
  }

  nameError(message) {
    this.showError(message);
    this.els.username.setAttribute('aria-invalid', 'true');
    this.els.username.focus();
  }

  showError(message) {
    this.els.error.textContent = message || '';
  }

  /**
   * Put a post back into the form to edit it. Text already in the box
   * is kept, with the post after it.
   */
  edit(username, message) {
    if (username) this.els.username.value = username;
    const current = this.els.message.value;
    this.els.message.value = current.trim() ? current.replace(/\s+$/, '') + '\n' + message : message;
    this.update();
    this.els.message.focus();
  }

  isEmpty() {
    return text.normalize(this.els.message.value) === '';
  }
}
