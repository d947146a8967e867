/*
 * The passcode prompt of a private wall (templates/_unlock.html).
 *
 * Shown when a join is refused `forbidden`: on the first visit, after the
 * organiser changed the passcode or made the wall private (the server takes
 * the page off the wall), and again if a join after unlocking is still
 * refused. The passcode goes to POST /w/<wall>/unlock, which answers with
 * the grant as a cookie; the server reads a socket's cookies only at its
 * handshake, so `onUnlocked` reconnects (conn.reconnect()) and the page
 * re-joins on the new session. The prompt stays, saying "Opening…", until
 * the page calls hide() on a successful join.
 *
 * Answers (docs/protocol.md): 200 unlocked; 403 a wrong passcode; 429 too
 * many wrong ones from this address (retry_after); 400 the wall is not
 * private (any more): nothing to unlock, so just join again.
 */

const WHY = {
  locked: 'Enter its passcode to see the posts and to post.',
  lost: 'The organiser changed who may see this wall (it is private now, or has a new '
    + 'passcode). Enter the passcode to go on.',
  again: 'The passcode was right, but the wall still refused this browser. '
    + 'Cookies must be allowed for this site. Try again.',
};

export class Unlock {
  /**
   * @param {object} els  form, input, hint, error, submit
   * @param {object} options  wall; onUnlocked(): reconnect and re-join
   */
  constructor(els, options) {
    this.els = els;
    this.wall = options.wall;
    this.onUnlocked = options.onUnlocked;
    this.unlocked = false; // a right passcode was sent since the last show()
    els.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.send();
    });
    els.input.addEventListener('input', () => {
      els.error.textContent = '';
      els.input.removeAttribute('aria-invalid');
    });
  }

  get shown() {
    return !this.els.form.hidden;
  }

  /** Ask for the passcode: the join was refused; `lost`: this page was
   * on the wall until now. */
  show(lost) {
    let why = lost ? 'lost' : 'locked';
    if (this.unlocked) why = 'again';
    this.unlocked = false;
    this.els.hint.textContent = WHY[why];
    this.els.submit.disabled = false;
    const wasHidden = this.els.form.hidden;
    this.els.form.hidden = false;
    if (wasHidden) this.els.input.focus();
  }

  hide() {
    this.els.form.hidden = true;
    this.els.error.textContent = '';
    this.els.input.value = '';
    this.unlocked = false;
  }

  fail(message) {
    this.els.error.textContent = message;
    this.els.input.setAttribute('aria-invalid', 'true');
    this.els.submit.disabled = false;
    this.els.input.focus();
    this.els.input.select();
  }

  send() {
    const passcode = this.els.input.value;
    if (!passcode) {
      this.fail('Enter the passcode.');
      return;
    }
    this.els.submit.disabled = true;
    this.els.error.textContent = '';
    const url = '/w/' + encodeURIComponent(this.wall) + '/unlock';
    fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ passcode: passcode }),
    }).then((resp) => resp.json().catch(() => ({})).then((body) => {
      if (resp.ok || resp.status === 400) {
        // 400: not private (any more), nothing to unlock: join again.
        this.unlocked = resp.ok;
        this.els.hint.textContent = 'Opening the wall…';
        this.onUnlocked();
      } else if (resp.status === 429) {
        const wait = Number(body.retry_after);
        this.fail('Too many wrong passcodes.'
          + (wait > 0 ? ' Try again in ' + wait + ' s.' : ' Try again later.'));
      } else if (resp.status === 403) {
        this.fail('That passcode is wrong.');
      } else {
        this.fail((body && body.message) || 'The wall could not be unlocked. Try again.');
      }
    }), () => {
      this.fail('Could not reach the server. Try again.');
    });
  }
}
