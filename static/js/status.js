/*
 * The header's live parts: the online count and the connection state, in
 * words a person understands: "connecting…", "live (WebSocket)",
 * "live (long-polling)", "offline (retrying in 3 s)".
 *
 * Only the state word is in the live region; the countdown beside it
 * changes every second and would otherwise be read out every second.
 */

const TRANSPORT_LABELS = {
  websocket: 'WebSocket',
  polling: 'long-polling',
  webtransport: 'WebTransport',
};

export class Status {
  /**
   * @param {object} els  online, status, text, detail: elements; retry: the
   *   "Retry now" button
   * @param {function} onRetry
   */
  constructor(els, onRetry) {
    this.els = els;
    this.state = null;
    this.ticker = null;
    els.retry.addEventListener('click', onRetry);
  }

  setOnline(count) {
    if (Number.isInteger(count) && count >= 0) this.els.online.textContent = String(count);
  }

  show(state) {
    this.state = state;
    clearInterval(this.ticker);
    this.ticker = null;
    const kind = state.state;
    this.els.status.classList.remove('status-live', 'status-offline', 'status-connecting');
    this.els.status.classList.add('status-' + kind);
    this.els.status.dataset.state = kind;
    if (kind === 'live') {
      const label = TRANSPORT_LABELS[state.transport] || state.transport || 'connected';
      this.set('live', '(' + label + ')');
    } else if (kind === 'offline') {
      this.countdown();
      this.ticker = setInterval(() => this.countdown(), 1000);
    } else {
      this.set('connecting…', '');
    }
    this.els.retry.hidden = kind !== 'offline';
  }

  countdown() {
    const seconds = Math.ceil((this.state.retryAt - Date.now()) / 1000);
    this.set('offline', seconds > 0 ? '(retrying in ' + seconds + ' s)' : '(retrying…)');
  }

  set(text, detail) {
    if (this.els.text.textContent !== text) this.els.text.textContent = text;
    this.els.detail.textContent = detail ? ' ' + detail : '';
  }
}
