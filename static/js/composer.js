/*
 * The post form: name (remembered), message, a live counter, Enter to post.
 *
 * The counter counts what the server counts (code points after NFC and
 * trimming, post-text.js), and the form never hands on a post the server
 * would refuse for its size. Enter posts, Shift+Enter starts a new line,
 * and Enter that confirms an input method's composition does neither.
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
   * @param {object} els  form, username, message, counter, error, submit
   * @param {object} limits  message, username: maximum code points
   * @param {function} onSubmit  (username, message), both normalised
   */
  constructor(els, limits, onSubmit) {
    this.els = els;
    this.limits = limits;
    this.onSubmit = onSubmit;

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
    this.els.submit.disabled = over || n === 0;
  }

  submit() {
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
