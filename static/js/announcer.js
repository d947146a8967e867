/*
 * Tells screen readers about posts that arrive while the page is open.
 *
 * Only arrivals are announced, never the history a page loads: the region
 * starts empty and is written to only for live posts. A burst is summed up
 * ("12 new posts") instead of read out one by one.
 */

const BATCH_MS = 1000;
const READ_OUT_MAX = 3; // more than this in one batch: just the count
const KEEP = 5; // old announcements to keep in the region
const MESSAGE_MAX = 200; // read out at most this much of a message

export class Announcer {
  constructor(region) {
    this.region = region;
    this.batch = [];
    this.timer = null;
  }

  announce(post) {
    this.batch.push(post);
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), BATCH_MS);
    }
  }

  flush() {
    const batch = this.batch.splice(0);
    this.timer = null;
    const lines = batch.length > READ_OUT_MAX
      ? [batch.length + ' new posts']
      : batch.map(function (post) {
        let message = String(post.message || '');
        if (message.length > MESSAGE_MAX) message = message.slice(0, MESSAGE_MAX) + '…';
        return String(post.username || '') + ': ' + message;
      });
    lines.forEach((line) => {
      const p = document.createElement('p');
      p.textContent = line;
      this.region.append(p);
    });
    while (this.region.childElementCount > KEEP) this.region.firstElementChild.remove();
  }
}
