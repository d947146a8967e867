/*
 * The SharedWorker that holds the browser's one Socket.IO connection.
 *
 * Every tab of the origin connects to it over a MessagePort (connection.js)
 * and speaks the hub's messages (connection-hub.js). On top of the hub this
 * file adds what only a shared worker needs:
 *
 * - a heartbeat: the worker pings every tab; a tab that stops answering
 *   (it crashed, or was frozen) is dropped, so that it cannot keep a wall
 *   joined forever. A frozen tab that wakes up re-connects by itself.
 * - 'bye' from a tab on pagehide, and closing the connection and the worker
 *   when the last tab has gone.
 * - errors inside the worker are sent to every tab, which logs them to its
 *   console (a worker's own console is invisible to pages and tests).
 *
 * It is a module worker (`new SharedWorker(url, {type: 'module'})`): the hub
 * and socket.io come in by relative imports, which resolve under this
 * file's own versioned URL (/static/v/<version>/js/), so the worker can only
 * ever run code of its own static tree, of the same deploy. The page passes
 * the transport and the namespace in this script's query string, and names
 * the worker after the transport and the static version, so a
 * `?transport=polling` tab never shares a WebSocket worker and a deploy
 * starts a new worker instead of reusing an old one.
 */

import { io } from '../vendor/socket.io-client/socket.io.esm.min.js';
import { Hub } from './connection-hub.js';

const PING_EVERY_MS = 10000;
// Three missed pings. Messages are not throttled in background tabs (timers
// are), so a live tab always answers in time.
const DEAD_AFTER_MS = 35000;
// Give a last disconnect time to leave before the worker goes away.
const CLOSE_DELAY_MS = 1000;

const params = new URL(self.location.href).searchParams;
const ports = new Map(); // MessagePort -> {client, lastSeen}
let hub = null;
let closeTimer = null;

function report(message) {
  for (const port of ports.keys()) {
    port.postMessage({ type: 'error', message: String(message) });
  }
}

self.addEventListener('error', function (event) {
  report('wall worker: ' + (event.error && event.error.stack ? event.error.stack : event.message));
});

self.addEventListener('unhandledrejection', function (event) {
  const reason = event.reason;
  report('wall worker: unhandled rejection: ' + (reason && reason.stack ? reason.stack : reason));
});

function startHub() {
  const transport = params.get('transport') === 'polling' ? ['polling'] : ['polling', 'websocket'];
  const namespace = params.get('namespace') || '/wall';
  return new Hub({
    io: io,
    url: self.location.origin + namespace,
    transports: transport,
    onError: report,
  });
}

function drop(port, tell) {
  const entry = ports.get(port);
  if (!entry) return;
  ports.delete(port);
  port.onmessage = null;
  if (tell) {
    // Queued for the tab if it is only frozen; it re-connects on reading it.
    port.postMessage({ type: 'dropped' });
  } else {
    port.close();
  }
  hub.removeClient(entry.client);
  if (ports.size === 0) {
    // The last tab went: close the connection, then the worker.
    hub.close();
    hub = null;
    closeTimer = setTimeout(function () {
      if (ports.size === 0) self.close();
    }, CLOSE_DELAY_MS);
  }
}

self.addEventListener('connect', function (event) {
  const port = event.ports[0];
  clearTimeout(closeTimer);
  if (hub === null) hub = startHub();
  const entry = { client: null, lastSeen: Date.now() };
  ports.set(port, entry);
  entry.client = hub.addClient(function (msg) {
    port.postMessage(msg);
  });

  // A message from a tab: 'bye' and 'pong' are the worker's, the rest the hub's.
  port.onmessage = function (e) {
    entry.lastSeen = Date.now();
    const msg = e.data;
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'bye') {
      drop(port, false);
    } else if (msg.type !== 'pong') {
      hub.receive(entry.client, msg);
    }
  };
});

setInterval(function () {
  const now = Date.now();
  for (const [port, entry] of Array.from(ports)) {
    if (now - entry.lastSeen > DEAD_AFTER_MS) {
      drop(port, true);
    } else {
      port.postMessage({ type: 'ping' });
    }
  }
}, PING_EVERY_MS);
