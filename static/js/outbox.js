/*
 * The outbox: posts the server has not acknowledged yet.
 *
 * A post is written here before it is sent, so nothing typed is lost to a
 * dropped connection, a stopped server or a reload. Each entry is kept in
 * localStorage under "wall.outbox.<client_id>" (one key per post, so tabs
 * adding posts at once never overwrite each other) and is sent, with the
 * same client_id every time, until the server answers:
 *
 * - ok: the entry is removed; so is one whose post arrives first by another
 *   way (a `new post`, a join ack or a catch-up page with its client_id).
 * - rate_limited / unavailable: sent again after `retry_after` (or a pause).
 * - invalid (or another refusal): kept as "failed" with the server's reason,
 *   for the person to edit, retry or discard.
 * - no answer (offline, timeout): sent again when the connection is back.
 *
 * Every tab showing a wall shows its entries and may send them, oldest
 * first. The tab sending an entry holds a short lease on it, so that two
 * tabs rarely send the same entry at once (and when they do, the client_id
 * makes the server store it once).
 *
 * The rules (order, leases, what each answer does to an entry) are pure
 * functions in outbox-entries.js; this file keeps the entries and sends them.
 */

import { newClientId } from './post-text.js';
import {
  SEND_TIMEOUT_MS, storageKey, clientIdOfKey, parseEntry, mergeEntries, entriesOf, newEntry,
  nextToSend, leased, isStored, answered, unanswered, retried, releasedLeases, seen,
} from './outbox-entries.js';

// localStorage, or a Map when storage is unavailable (private modes,
// disabled storage): the outbox then still works, without surviving reloads.
class EntryStore {
  constructor() {
    this.memory = null;
    try {
      this.storage = self.localStorage;
      const probe = storageKey('probe');
      this.storage.setItem(probe, '1');
      this.storage.removeItem(probe);
    } catch (e) {
      this.storage = null;
      this.memory = new Map();
    }
  }

  get(clientId) {
    let raw = this.memory ? this.memory.get(clientId) : null;
    if (!raw && this.storage) raw = this.storage.getItem(storageKey(clientId));
    return raw ? parseEntry(raw) : null;
  }

  put(entry) {
    const raw = JSON.stringify(entry);
    if (this.memory) {
      this.memory.set(entry.client_id, raw);
      return;
    }
    try {
      this.storage.setItem(storageKey(entry.client_id), raw);
    } catch (e) {
      // Quota exceeded: keep this one in memory rather than lose it.
      this.memory = this.memory || new Map();
      this.memory.set(entry.client_id, raw);
    }
  }

  remove(clientId) {
    if (this.memory) this.memory.delete(clientId);
    if (this.storage) this.storage.removeItem(storageKey(clientId));
  }

  all() {
    const stored = [];
    if (this.storage) {
      for (let i = 0; i < this.storage.length; i++) {
        const key = this.storage.key(i);
        if (clientIdOfKey(key) !== null) stored.push(parseEntry(this.storage.getItem(key)));
      }
    }
    const kept = this.memory ? Array.from(this.memory.values(), parseEntry) : [];
    return mergeEntries(stored, kept);
  }
}

export class Outbox {
  /**
   * @param {object} options
   *   wall: the wall this page shows
   *   conn: the connection (connection.js)
   *   tabId: this page's id, for leases
   *   onChange(entry): an entry was added or changed
   *   onSent(post, authorKey): the server stored an entry sent from this page
   *   onWait(entry, result): optional, an entry sent from this page must wait
   *     (rate_limited: the wall's slow mode or the rate limit)
   *   onRemove(clientId, elsewhere): an entry is gone (elsewhere: by another tab)
   *   onRejected(entry): the server refused an entry this page sent
   */
  constructor(options) {
    this.wall = options.wall;
    this.conn = options.conn;
    this.tabId = options.tabId;
    this.onChange = options.onChange;
    this.onSent = options.onSent;
    this.onRemove = options.onRemove;
    this.onRejected = options.onRejected;
    this.onWait = options.onWait || function () {};
    this.store = new EntryStore();
    this.live = false;
    this.sending = null; // client_id in flight from this tab
    this.timer = null;

    // Another tab added, changed or removed an entry.
    self.addEventListener('storage', (event) => {
      if (event.key === null) {
        this.list().forEach((entry) => this.onChange(entry));
      } else if (clientIdOfKey(event.key) !== null) {
        const clientId = clientIdOfKey(event.key);
        const entry = event.newValue ? parseEntry(event.newValue) : null;
        if (entry === null) {
          this.onRemove(clientId, true);
        } else if (entry.wall === this.wall) {
          this.onChange(entry);
        }
        this.pump();
      }
    });

    // Going away: hand our leases back so that the reloaded page (or
    // another tab) can send at once instead of waiting for them to expire.
    self.addEventListener('pagehide', () => {
      releasedLeases(this.list(), this.tabId).forEach((entry) => this.store.put(entry));
      this.sending = null;
    });
  }

  /** This wall's entries, oldest first. */
  list() {
    return entriesOf(this.store.all(), this.wall);
  }

  /** Queue a post; it shows (via onChange) and is sent at once if possible. */
  add(username, message) {
    const entry = newEntry(newClientId(), this.wall, username, message, this.tabId, Date.now());
    this.store.put(entry);
    this.onChange(entry);
    this.pump();
    return entry;
  }

  /**
   * A post reached the page (`new post`, join or catch-up): if it is one of
   * ours, it shows as a post now, but its entry stays until the server
   * acknowledges it. What arrives unacknowledged may still be lost with a
   * Redis that fails over before a replica has it (docs/protocol.md,
   * "Delivery"); the retry, with the same client_id, stores it once.
   * Returns true if it was ours.
   */
  settle(post) {
    if (!post || typeof post.client_id !== 'string') return false;
    const entry = this.store.get(post.client_id);
    if (!entry || entry.wall !== this.wall) return false;
    if (!entry.seen) this.store.put(seen(entry));
    return true;
  }

  // The server acknowledged the post: its entry is done.
  done(post) {
    if (!post || typeof post.client_id !== 'string' || !this.has(post.client_id)) return;
    this.store.remove(post.client_id);
    this.onRemove(post.client_id, false);
  }

  get(clientId) {
    const entry = typeof clientId === 'string' ? this.store.get(clientId) : null;
    return entry !== null && entry.wall === this.wall ? entry : null;
  }

  has(clientId) {
    const entry = typeof clientId === 'string' ? this.store.get(clientId) : null;
    return entry !== null && entry.wall === this.wall;
  }

  discard(clientId) {
    this.store.remove(clientId);
    this.onRemove(clientId, false);
    this.pump();
  }

  /** Send a failed entry again, with its client_id. */
  retry(clientId) {
    const stored = this.store.get(clientId);
    if (!stored) return;
    const entry = retried(stored);
    this.store.put(entry);
    this.onChange(entry);
    this.pump();
  }

  setLive(live) {
    this.live = live;
    if (live) this.pump();
  }

  // Send the oldest pending entry, if nothing stops us; called whenever
  // something changed that might let the next one go.
  pump() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.live || this.sending !== null) return;
    const now = Date.now();
    const next = nextToSend(this.list(), this.tabId, now);
    if (next === null) return;
    // Strictly in order: wait for the oldest rather than overtake it.
    if (next.wait > 0) {
      this.timer = setTimeout(() => this.pump(), next.wait);
      return;
    }
    const entry = leased(next.entry, this.tabId, now);
    this.store.put(entry);
    this.sending = entry.client_id;

    const payload = {
      wall: entry.wall,
      username: entry.username,
      message: entry.message,
      client_id: entry.client_id,
    };
    this.conn.emit('add to wall', payload, SEND_TIMEOUT_MS).then(
      (result) => this.onAnswer(entry.client_id, result),
      (err) => this.onNoAnswer(entry.client_id, err),
    ).then(() => {
      if (this.sending === entry.client_id) this.sending = null;
      this.pump();
    });
  }

  onAnswer(clientId, result) {
    if (isStored(result)) {
      // The page merges the post (replacing the "sending…" item) first.
      this.onSent(result.post, result.author_key);
      this.done(result.post);
      return;
    }
    const stored = this.store.get(clientId);
    if (!stored) return; // acknowledged meanwhile in another tab
    const entry = answered(stored, result, Date.now());
    this.store.put(entry);
    this.onChange(entry);
    if (entry.state === 'failed' && entry.tab === this.tabId) this.onRejected(entry);
    if (result && result.error === 'rate_limited') this.onWait(entry, result);
  }

  // Offline: the next 'live' pumps again; a timeout waits a moment.
  onNoAnswer(clientId, err) {
    const stored = this.store.get(clientId);
    if (!stored) return;
    this.store.put(unanswered(stored, err, Date.now()));
  }
}
