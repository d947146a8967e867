/*
 * The speed test's methods over a connection that stays open:
 *
 *   ws           the browser's own WebSocket to /ws/echo, no Socket.IO
 *   sio-ws       Socket.IO over WebSocket: an acknowledged `echo` on /speed
 *   sio-polling  Socket.IO over HTTP long-polling: the same event
 *
 * Each is connected before its clock starts and closed after its run, so
 * only round trips are timed. Browsers hide WebSocket frames, so their
 * bytes are computed from the real strings sent and received; Socket.IO's
 * are its Engine.IO packets, read off the engine's own events.
 *
 * Every function takes the page's `config` (speed.js): io (the socket.io
 * client's `io`), namespace, socketioPath, wsUrl, echoUrl, origin, timeoutMs.
 */

import {
  sum, utf8Length, frameBytes, packetLength, pollingBodyLength, flatTransferSize,
  pollingResponseBytes, pollingRequestBytes,
} from './speed-bytes.js';
import { formatBytes, formatCount } from './speed-format.js';
import { responseEntries, isSocketIOUrl, overProtocol } from './speed-http.js';

/** Rejects with `message` unless `promise` settles within `ms`. */
function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function deflateNote(extensions) {
  if (extensions === undefined) return 'Payloads counted as sent, before any compression.';
  if (!/permessage-deflate/.test(extensions)) return 'No compression was negotiated.';
  return 'Before compression: the connection negotiated permessage-deflate, so the payloads '
    + 'on the wire were compressed and may be a few bytes smaller.';
}

// ------------------------------------------------------------ WebSocket

function connectWebSocket(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.addEventListener('open', () => resolve(ws), {once: true});
    ws.addEventListener('close', (event) => {
      reject(new Error('Could not connect (' + (event.reason || 'code ' + event.code) + ').'));
    }, {once: true});
  });
}

/** Where a WebSocket's data goes: one round trip in flight at a time. */
function echoChannel(ws, timeoutMs) {
  let pending = null;
  ws.addEventListener('message', (event) => {
    const waiting = pending;
    pending = null;
    if (waiting) waiting.resolve(event.data);
  });
  // The server closes with a reason when it refuses (rate limit, too long).
  ws.addEventListener('close', (event) => {
    const waiting = pending;
    pending = null;
    if (waiting) waiting.reject(new Error('The WebSocket closed: ' + (event.reason || 'code ' + event.code) + '.'));
  });
  return function send(text) {
    const reply = new Promise((resolve, reject) => {
      pending = {resolve: resolve, reject: reject};
    });
    ws.send(text);
    return withTimeout(reply, timeoutMs, 'No echo within ' + timeoutMs / 1000 + ' s.');
  };
}

export async function openWebSocket(config) {
  const ws = await connectWebSocket(config.wsUrl);
  const send = echoChannel(ws, config.timeoutMs);
  const frames = {sent: 0, received: 0};
  return {
    start() {
      frames.sent = frames.received = 0;
    },
    async echo(text) {
      frames.sent += frameBytes(utf8Length(text), true);
      const reply = await send(text);
      frames.received += frameBytes(utf8Length(reply), false);
      return reply;
    },
    async bytes(run) {
      return {
        perTrip: (frames.sent + frames.received) / run.rounds,
        how: 'Computed exactly from the strings sent (masked frames: 6 bytes of header and mask) '
          + 'and received (2 bytes of header). ' + deflateNote(ws.extensions),
      };
    },
    close() {
      ws.close(1000);
    },
  };
}

// ------------------------------------------------------------ Socket.IO

function connectSocketIO(config, transport) {
  return new Promise((resolve, reject) => {
    // forceNew: io() would otherwise reuse the manager, and with it the
    // transport, of the previous method.
    const socket = config.io(config.namespace, {
      path: config.socketioPath,
      transports: [transport],
      forceNew: true,
      reconnection: false,
      timeout: config.timeoutMs,
    });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(new Error('Could not connect (' + err.message + ').'));
    });
  });
}

/**
 * Every Engine.IO packet sent and received while `tally.counting`, and,
 * for long-polling, the body of each POST and the number of GETs answered.
 * These are the real strings, ack ids and pings included.
 */
function watchEngine(engine) {
  const tally = {counting: false, sent: [], received: [], posts: [], polls: 0};
  let unflushed = [];
  engine.on('packetCreate', (packet) => {
    if (!tally.counting) return;
    const length = packetLength(packet);
    tally.sent.push(length);
    unflushed.push(length);
  });
  engine.on('packet', (packet) => {
    if (tally.counting) tally.received.push(packetLength(packet));
  });
  // Long-polling sends the packets queued since the last flush as one POST.
  engine.on('flush', () => {
    if (tally.counting && unflushed.length) tally.posts.push(pollingBodyLength(unflushed));
    unflushed = [];
  });
  if (engine.transport.name === 'polling') {
    engine.transport.on('pollComplete', () => {
      if (tally.counting) tally.polls += 1;
    });
  }
  return tally;
}

// The namespace's connect POST may still be waiting for its "ok"; its
// entry must not fall into the timed window.
function drained(engine) {
  const transport = engine.transport;
  if (transport.writable) return Promise.resolve();
  return withTimeout(new Promise((resolve) => transport.once('drain', resolve)), 2000, 'drain')
    .catch(() => {});
}

export async function openSocketIO(config, transport) {
  const socket = await connectSocketIO(config, transport);
  const engine = socket.io.engine;
  const tally = watchEngine(engine);
  if (transport === 'polling') await drained(engine);
  return {
    start() {
      tally.counting = true;
    },
    async echo(text) {
      const reply = await socket.timeout(config.timeoutMs).emitWithAck('echo', text);
      if (reply && reply.ok === false) throw new Error(reply.message || reply.error);
      return reply;
    },
    async bytes(run) {
      tally.counting = false;
      return transport === 'websocket'
        ? socketIOFrames(config, tally, engine, run)
        : socketIOPolling(config, tally, run);
    },
    close() {
      tally.counting = false;
      socket.disconnect();
    },
  };
}

function socketIOFrames(config, tally, engine, run) {
  const sent = sum(tally.sent.map((n) => frameBytes(n, true)));
  const received = sum(tally.received.map((n) => frameBytes(n, false)));
  // The socket behind the transport is engine.io-client's own; read only
  // to say whether compression was negotiated.
  const ws = engine.transport && engine.transport.ws;
  return {
    perTrip: (sent + received) / run.rounds,
    how: 'Computed exactly from the ' + formatCount(tally.sent.length) + ' packets sent ('
      + '42' + config.namespace + ',<ack id>["echo","…"] in masked frames: 6 bytes of header and mask) and '
      + formatCount(tally.received.length) + ' received (43' + config.namespace
      + ',<ack id>["…"]: 2 bytes of header) during the run, pings included. '
      + deflateNote(ws ? ws.extensions : undefined),
  };
}

async function socketIOPolling(config, tally, run) {
  const expected = tally.posts.length + tally.polls;
  const entries = await responseEntries((url) => isSocketIOUrl(config, url), run.since, expected);
  const heads = run.probe.pollingHeads;
  const responses = pollingResponseBytes(entries, tally.posts.length, heads);
  const request = run.probe.request;
  const requests = request ? pollingRequestBytes(entries, tally.posts, request, config.origin) : null;
  const count = formatCount(entries.length) + ' requests to ' + config.socketioPath + '/ ('
    + formatCount(tally.posts.length) + ' POSTs, ' + formatCount(tally.polls) + ' GETs) '
    + overProtocol(entries) + '. ';
  if (requests === null || responses === null) {
    return {perTrip: null, how: count + 'Not known this time: the '
      + (requests === null ? config.echoUrl.pathname : 'Engine.IO handshake') + ' probe failed.'};
  }
  const responsesHow = responses.measured
    ? 'Resource Timing transferSize (headers and body), measured by the browser'
    : 'real body sizes (Resource Timing encodedBodySize) plus the headers of the responses to '
      + 'a GET and a POST the page sent to ' + config.socketioPath + '/ before the run ('
      + formatCount(heads.get) + ' and ' + formatCount(heads.post)
      + ' bytes without Content-Length)';
  const how = count + 'Responses, ' + formatBytes(responses.bytes / entries.length) + ' each: '
    + responsesHow + '. Requests, ' + formatBytes(requests / entries.length) + ' each: estimated, '
    + 'since browsers do not expose them, from the headers of one ' + config.echoUrl.pathname
    + ' request as the server measured it (' + formatCount(request.requestBytes)
    + ' bytes in all), adjusted for each URL, method and POST body.';
  return {
    perTrip: (requests + responses.bytes) / run.rounds,
    how: how,
    flatTransferSize: flatTransferSize(entries),
  };
}
