/*
 * The page's end of the connection: `connect(options)`.
 *
 * Where the browser has SharedWorker (and the page wasn't opened with
 * ?shared=0), all tabs share one Socket.IO connection held by
 * wall-worker.js and talk to it over a MessagePort. Otherwise the page runs
 * the same hub (connection-hub.js) itself. Both speak the same messages, so
 * the rest of the page cannot tell them apart.
 *
 * The page tells the worker on pagehide that it is going, and connects
 * again if it comes back from the back/forward cache. If the worker stops
 * answering (it crashed, or dropped this tab while it was frozen) the page
 * connects to a fresh one; if it cannot start at all (no module workers,
 * refused in this context), to a hub of its own.
 *
 * The worker's URL and socket.io's are resolved against this module's own
 * URL, so they carry the same static version (/static/v/<version>/...).
 */

import { Hub } from './connection-hub.js';

// Longer than the worker's ping interval (10 s) with room to spare.
const WORKER_SILENT_MS = 40000;
const WATCHDOG_EVERY_MS = 10000;
// The hub answers within its own ack timeout; this only catches a hub
// that died with a request in flight.
const REPLY_GRACE_MS = 5000;
// A page whose socket.io import failed (the server went away between the
// page and its scripts) tries again this much later.
const IMPORT_RETRY_MS = 5000;

// FNV-1a, enough to turn a long URL into a short, stable tag.
function shortHash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * The shared worker for a transport and namespace: its URL and its name.
 *
 * A SharedWorker is shared by the tabs that give the same URL and name. The
 * URL has the transport and namespace in its query; the name says the
 * transport and the static version (from the URL's /static/v/<version>/
 * segment, or a hash of the whole URL where there is none), so a polling
 * tab never joins a WebSocket worker, a deploy starts a new worker, and
 * chrome://inspect shows which is which. Exported for the browser tests,
 * which attach to the page's worker as a second tab would.
 */
export function workerFor(transport, namespace) {
  const url = new URL('./wall-worker.js', import.meta.url);
  url.searchParams.set('transport', transport);
  url.searchParams.set('namespace', namespace);
  return { url: url, name: workerName(url, transport) };
}

/** 'wall <transport> <static version>' for a worker script's URL. */
export function workerName(url, transport) {
  const version = /\/static\/v\/([^/]+)\//.exec(url.pathname);
  return 'wall ' + transport + ' ' + (version ? version[1] : shortHash(url.href));
}

// socket.io's ES module build, fetched only when this tab runs a hub itself
// (the worker imports its own). Some browsers keep a failed module fetch in
// the module map for the life of the page (recent Chromium fetches again),
// so a retry asks for the same file under a new query string.
function importSocketIO(attempt) {
  const url = new URL('../vendor/socket.io-client/socket.io.esm.min.js', import.meta.url);
  if (attempt > 0) url.searchParams.set('retry', String(attempt));
  return import(url.href);
}

// The link to a hub inside a SharedWorker.
class WorkerLink {
  constructor(options, onMessage, onFailure) {
    const worker = workerFor(options.transport, options.namespace);
    this.name = worker.name;
    this.lastHeard = Date.now();

    // A module worker: a browser without them runs it as a classic script,
    // which fails at its first import and so lands in onerror below.
    this.worker = new SharedWorker(worker.url.href, { type: 'module', name: this.name });
    this.worker.onerror = function () {
      onFailure('the shared worker failed to start');
    };
    this.port = this.worker.port;
    this.port.onmessage = (event) => {
      this.lastHeard = Date.now();
      const msg = event.data;
      if (msg && msg.type === 'ping') {
        this.port.postMessage({ type: 'pong' });
      } else if (msg && msg.type === 'error') {
        // The worker's console is invisible to the page: show it here.
        console.error(msg.message);
      } else if (msg && msg.type === 'dropped') {
        onFailure(null);
      } else {
        onMessage(msg);
      }
    };
  }

  send(msg) {
    this.port.postMessage(msg);
  }

  silent() {
    return Date.now() - this.lastHeard > WORKER_SILENT_MS;
  }

  close() {
    this.port.onmessage = null;
    this.port.postMessage({ type: 'bye' });
    this.port.close();
  }
}

// The link to a hub running in this page.
class PageLink {
  constructor(options, onMessage) {
    this.hub = null;
    this.client = null;
    this.closed = false;
    this.queue = [];
    this.start(options, onMessage, 0);
  }

  start(options, onMessage, attempt) {
    importSocketIO(attempt).then((socketio) => {
      if (this.closed) return;
      this.hub = new Hub({
        io: socketio.io,
        url: self.location.origin + options.namespace,
        transports: options.transport === 'polling' ? ['polling'] : ['polling', 'websocket'],
        onError: function (message) {
          console.error(message);
        },
      });
      // Asynchronous both ways, as through a MessagePort.
      this.client = this.hub.addClient(function (msg) {
        queueMicrotask(function () {
          onMessage(msg);
        });
      });
      this.queue.splice(0).forEach((msg) => this.send(msg));
    }, () => {
      // The server went away between the page and its scripts; the
      // browser has logged the failed request. Try again in a while.
      setTimeout(() => {
        if (!this.closed) this.start(options, onMessage, attempt + 1);
      }, IMPORT_RETRY_MS);
    });
  }

  send(msg) {
    if (this.hub === null) {
      this.queue.push(msg);
      return;
    }
    queueMicrotask(() => {
      if (!this.closed) this.hub.receive(this.client, msg);
    });
  }

  silent() {
    return false;
  }

  close() {
    this.closed = true;
    if (this.hub !== null) {
      this.hub.removeClient(this.client);
      this.hub.close();
    }
  }
}

class Connection {
  /**
   * @param {object} options
   *   namespace: '/wall'
   *   transport: 'websocket' (upgrade from polling) or 'polling' (only)
   *   shared: false to keep this tab's connection to itself
   */
  constructor(options) {
    this.options = options;
    this.listeners = { state: [], event: [] };
    this.pending = new Map(); // request id -> {resolve, reject, timer}
    this.nextId = 1;
    this.linkCount = 0;
    this.state = { state: 'connecting', transport: null, retryAt: null, session: null };
    this.useWorker = options.shared && typeof self.SharedWorker === 'function';
    this.link = null;
    this.open();

    self.addEventListener('pagehide', () => {
      this.closeLink();
    });
    // Back from the back/forward cache: we said bye, so say hello again.
    self.addEventListener('pageshow', (event) => {
      if (event.persisted && this.link === null) this.open();
    });
    setInterval(() => {
      if (this.link !== null && this.link.silent()) this.reopen(null);
    }, WATCHDOG_EVERY_MS);
  }

  get mode() {
    return this.useWorker ? 'shared' : 'own';
  }

  on(type, listener) {
    this.listeners[type].push(listener);
  }

  open() {
    this.linkCount += 1;
    const linkNo = this.linkCount;
    const onMessage = (msg) => {
      if (linkNo === this.linkCount) this.receive(msg);
    };
    const onFailure = (reason) => {
      if (linkNo === this.linkCount) this.reopen(reason);
    };
    try {
      this.link = this.useWorker
        ? new WorkerLink(this.options, onMessage, onFailure)
        : new PageLink(this.options, onMessage, onFailure);
    } catch (err) {
      // e.g. SharedWorker exists but is refused in this context.
      this.useWorker = false;
      this.link = new PageLink(this.options, onMessage, onFailure);
    }
  }

  // Drop the current link and start a new one. With a reason, the worker
  // itself failed: fall back to a connection of our own.
  reopen(reason) {
    if (reason && this.useWorker) {
      console.warn('wall: ' + reason + '; connecting from this tab instead');
      this.useWorker = false;
    }
    this.closeLink();
    this.open();
  }

  closeLink() {
    if (this.link === null) return;
    this.link.close();
    this.link = null;
    this.linkCount += 1; // ignore anything the old link still says
    this.pending.forEach(function (request) {
      clearTimeout(request.timer);
      request.reject(new Error('offline'));
    });
    this.pending.clear();
    this.setState({ state: 'connecting', transport: null, retryAt: null, session: null });
  }

  receive(msg) {
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'state') {
      // Sessions are per hub; tag them with the link so that a new worker's
      // session 1 is still a new session to the page.
      const session = msg.session ? this.linkCount + ':' + msg.session : null;
      this.setState({
        state: msg.state,
        transport: msg.transport,
        retryAt: msg.retryAt,
        session: session,
      });
    } else if (msg.type === 'event') {
      this.listeners.event.forEach(function (listener) {
        listener(msg.event, msg.data);
      });
    } else if (msg.type === 'reply') {
      const request = this.pending.get(msg.id);
      if (!request) return;
      this.pending.delete(msg.id);
      clearTimeout(request.timer);
      if (msg.error) {
        request.reject(new Error(msg.error));
      } else {
        request.resolve(msg.result);
      }
    }
  }

  setState(state) {
    this.state = state;
    this.listeners.state.forEach(function (listener) {
      listener(state);
    });
  }

  request(msg, timeout) {
    if (this.link === null) return Promise.reject(new Error('offline'));
    const id = this.nextId++;
    msg.id = id;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('timeout'));
      }, timeout + REPLY_GRACE_MS);
      this.pending.set(id, { resolve: resolve, reject: reject, timer: timer });
      this.link.send(msg);
    });
  }

  /**
   * Join (or re-join) a wall, as its organiser with `key`; resolves with
   * the server's ack.
   */
  join(wall, after, key) {
    const msg = { type: 'join', wall: wall };
    if (after) msg.after = after;
    if (key) msg.key = key;
    return this.request(msg, 10000);
  }

  leave(wall) {
    if (this.link !== null) this.link.send({ type: 'leave', wall: wall });
  }

  /** Send an event with an ack; rejects with Error('offline' | 'timeout'). */
  emit(event, data, timeout) {
    return this.request({ type: 'emit', event: event, data: data, timeout: timeout }, timeout);
  }

  /** Reconnect now instead of waiting for the next attempt. */
  retry() {
    if (this.link !== null) this.link.send({ type: 'retry' });
  }

  /**
   * Start a new session even if live, so that the server sees cookies set
   * since the last handshake (a private wall's grant); every page of the
   * connection re-joins on the new session.
   */
  reconnect() {
    if (this.link !== null) this.link.send({ type: 'reconnect' });
  }
}

export function connect(options) {
  return new Connection(options);
}
