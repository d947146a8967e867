/*
 * The speed test page (/speed): one short string sent N times, one round trip
 * after the other, over four ways of talking to the server:
 *
 *   sio-ws       Socket.IO over WebSocket: an acknowledged `echo` on /speed
 *   sio-polling  Socket.IO over HTTP long-polling: the same event
 *   ws           the browser's own WebSocket to /ws/echo, no Socket.IO
 *   fetch        one POST to /api/echo per round trip
 *
 * Each connection is opened before its clock starts and closed after its
 * run, so only round trips are timed. Bytes on the wire: browsers hide
 * WebSocket frames, so those are computed from the real strings sent and
 * received. For HTTP responses Resource Timing's transferSize is used where
 * it is a real measurement; Chromium's is the body plus a flat 300 bytes
 * (the spec now hides header sizes), so there the real body size is added
 * to headers the page reads itself. HTTP requests are only seen by the
 * server, which reports their size.
 *
 * Configuration comes only from data- attributes on #speed (no inline
 * script, so the Content-Security-Policy of default-src 'self' holds).
 */
(function () {
  'use strict';

  const root = document.getElementById('speed');
  if (!root) return;

  const config = root.dataset;
  const MIN_ROUNDS = intOr(config.minRounds, 10);
  const MAX_ROUNDS = intOr(config.maxRounds, 10000);
  const NAMESPACE = config.namespace || '/speed';
  const SOCKETIO_PATH = (config.socketioPath || '/socket.io').replace(/\/$/, '');
  const ECHO_URL = new URL(config.echoUrl || '/api/echo', self.location.href);
  const TIMEOUT_MS = 10000;
  // What travels: short, ASCII, and the same every time, so that the
  // methods differ only in how they carry it.
  const TEXT = 'hello, wall';
  const JSON_TYPE = 'application/json';
  // engine.io-client's polling POSTs say this (engine.io-client, polling-xhr).
  const POLLING_TYPE = 'text/plain;charset=UTF-8';
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const METHODS = [
    {id: 'sio-ws', label: 'Socket.IO, WebSocket', open: () => openSocketIO('websocket')},
    {id: 'sio-polling', label: 'Socket.IO, long-polling', open: () => openSocketIO('polling')},
    {id: 'ws', label: 'WebSocket', open: openWebSocket},
    {id: 'fetch', label: 'fetch (AJAX)', open: openFetch},
  ];

  const CHART_METRICS = {
    rps: {title: 'Round trips per second (longer is faster)', value: (r) => r.rps, format: formatRate},
    median: {title: 'Median round trip (shorter is faster)', value: (r) => r.median, format: formatMs},
    bytes: {title: 'Bytes on the wire per round trip', value: (r) => r.bytes, format: formatBytes},
  };

  const els = {
    form: $('speed-form'),
    rounds: $('rounds'),
    error: $('rounds-error'),
    run: $('run'),
    stop: $('stop'),
    progress: $('progress'),
    status: $('run-status'),
    results: $('results'),
    resultsTitle: $('results-title'),
    resultsBody: $('results-body'),
    chart: $('speed-chart'),
    chartTitle: $('chart-title'),
    chartMetric: $('chart-metric'),
    notes: $('bytes-notes'),
    transferNote: $('transfer-note'),
    history: $('history'),
    historyHead: $('history-head'),
    historyBody: $('history-body'),
  };

  const encoder = new TextEncoder();
  const numbers = new Intl.NumberFormat('en', {maximumFractionDigits: 0});
  const decimals = new Intl.NumberFormat('en', {maximumFractionDigits: 1});
  const runs = [];
  let latest = null;
  let stopRequested = false;

  class Stopped extends Error {}

  function $(id) {
    return document.getElementById(id);
  }

  function intOr(value, fallback) {
    const n = parseInt(value, 10);
    return Number.isFinite(n) ? n : fallback;
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function sum(values) {
    let total = 0;
    for (const v of values) total += v;
    return total;
  }

  function utf8Length(text) {
    return encoder.encode(text).length;
  }

  /** Rejects with `message` unless `promise` settles within `ms`. */
  function withTimeout(promise, ms, message) {
    let timer;
    const timeout = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  // ------------------------------------------------------------ sizes

  /**
   * Bytes of one unfragmented WebSocket frame (RFC 6455, 5.2): a 2-byte
   * header, 2 or 8 more for longer payloads, and a 4-byte mask on frames
   * from the client.
   */
  function frameBytes(payloadLength, fromClient) {
    const header = payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10;
    return header + (fromClient ? 4 : 0) + payloadLength;
  }

  // Engine.IO v4 writes a text packet as its type digit then its data, e.g.
  // "4" + '2/speed,7["echo","hello, wall"]'; a ping is just "2".
  function packetLength(packet) {
    return 1 + (typeof packet.data === 'string' ? utf8Length(packet.data) : 0);
  }

  function requestLineLength(method, url) {
    return utf8Length(method + ' ' + url.pathname + url.search + ' HTTP/1.1\r\n');
  }

  function headerLength(name, value) {
    return utf8Length(name + ': ' + value + '\r\n');
  }

  // ------------------------------------------------ resource timing

  // A polling run makes two entries per round trip; past the buffer's size
  // the browser drops entries without a word.
  function resetResourceTimings(rounds) {
    performance.clearResourceTimings();
    performance.setResourceTimingBufferSize(3 * rounds + 100);
  }

  /**
   * The resource entries for URLs matching `matches` that finished after
   * `since`. Chromium adds an entry shortly after the response was read, so
   * wait (a little) for the `expected` count.
   */
  async function responseEntries(matches, since, expected) {
    const deadline = performance.now() + 3000;
    for (;;) {
      const found = performance.getEntriesByType('resource').filter(
        (e) => e.responseEnd >= since && matches(new URL(e.name)));
      if (found.length >= expected || performance.now() > deadline) return found;
      await sleep(50);
    }
  }

  function isSocketIOUrl(url) {
    return url.origin === self.location.origin && url.pathname.startsWith(SOCKETIO_PATH + '/');
  }

  function isEchoUrl(url) {
    return url.origin === ECHO_URL.origin && url.pathname === ECHO_URL.pathname;
  }

  // Resource Timing now hides header sizes: transferSize is the body plus
  // a flat 300 bytes (what Chromium reports), not what crossed the wire.
  function flatTransferSize(entries) {
    return entries.length > 0 && entries.every((e) => e.transferSize - e.encodedBodySize === 300);
  }

  /** Response bytes as the browser measured them, or null if it did not. */
  function measuredResponses(entries) {
    // 0 means hidden (cross-origin without Timing-Allow-Origin) or cached.
    if (!entries.length || entries.some((e) => !e.transferSize) || flatTransferSize(entries)) return null;
    return sum(entries.map((e) => e.transferSize));
  }

  // Sizes are counted as HTTP/1.1 text: what this server speaks, but not
  // what a proxy in front of it may speak to the browser.
  function overProtocol(entries) {
    const protocol = (entries.length && entries[0].nextHopProtocol) || 'an unknown protocol';
    if (protocol === 'http/1.1' || protocol === 'an unknown protocol') return 'over ' + protocol;
    return 'over ' + protocol + ' (counted as HTTP/1.1 text; ' + protocol + ' compresses headers, '
      + 'so fewer bytes crossed the wire)';
  }

  // ------------------------------------------------------------ HTTP

  /** Bytes of a response's status line and headers, as the page sees them. */
  function headLength(response) {
    let length = utf8Length('HTTP/1.1 ' + response.status + ' ' + response.statusText + '\r\n') + 2;
    // Same origin: every header but Set-Cookie is visible to the page.
    response.headers.forEach((value, name) => {
      length += headerLength(name, value);
    });
    return length;
  }

  function parseJson(text) {
    try {
      return JSON.parse(text);
    } catch (err) {
      return null;
    }
  }

  /** One POST to /api/echo: the reply, and the response's size in bytes. */
  async function postEcho(text) {
    const response = await fetch(ECHO_URL.href, {
      method: 'POST',
      headers: {'Content-Type': JSON_TYPE},
      body: JSON.stringify({data: text}),
      // No cache option: POSTs are never served from the cache, and
      // 'no-store' would add two request headers an AJAX call rarely has.
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const body = await response.text();
    const reply = parseJson(body);
    if (!response.ok || !reply) {
      throw new Error((reply && reply.message) || 'The server answered ' + response.status + '.');
    }
    return {reply: reply, responseBytes: headLength(response) + utf8Length(body)};
  }

  /**
   * One untimed POST to /api/echo. The server reports its size; take away
   * the request line, the body and the two body headers, and what is left
   * are the headers any same-origin request from this page carries (cookies,
   * user agent, Sec-Fetch-…). Long-polling requests are estimated from it.
   */
  async function probeRequest() {
    const body = JSON.stringify({data: TEXT});
    const bodyLength = utf8Length(body);
    const {reply} = await postEcho(TEXT);
    const common = reply.request_bytes - requestLineLength('POST', ECHO_URL) - bodyLength
      - headerLength('Content-Type', JSON_TYPE) - headerLength('Content-Length', String(bodyLength));
    return {requestBytes: reply.request_bytes, common: common};
  }

  /** A response's status line and headers, but its Content-Length. */
  function headWithoutLength(response) {
    const length = response.headers.get('Content-Length');
    return headLength(response) - (length === null ? 0 : headerLength('Content-Length', length));
  }

  /**
   * The headers of Socket.IO long-polling responses, which the page cannot
   * read from the socket.io client's own requests: it opens an Engine.IO
   * session of its own with a GET (the handshake) and closes it with a POST,
   * and reads both responses. GETs and POSTs are answered with different
   * headers (the server names the origin only when the request has one).
   */
  async function probePollingHeads() {
    const url = new URL(SOCKETIO_PATH + '/?EIO=4&transport=polling', self.location.href);
    const opened = await fetch(url.href, {cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS)});
    const body = await opened.text();
    const open = opened.ok && body[0] === '0' ? parseJson(body.slice(1)) : null;
    if (!open || !open.sid) throw new Error('no Engine.IO handshake');
    url.searchParams.set('sid', open.sid);
    // "1" is an Engine.IO close packet.
    const closed = await fetch(url.href, {
      method: 'POST', headers: {'Content-Type': POLLING_TYPE}, body: '1',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await closed.text();
    if (!closed.ok) throw new Error('the Engine.IO close was refused');
    return {get: headWithoutLength(opened), post: headWithoutLength(closed)};
  }

  /** What the bytes of HTTP requests and responses are estimated from. */
  async function probeHttp() {
    const [request, pollingHeads] = await Promise.all([
      probeRequest().catch(() => null),
      probePollingHeads().catch(() => null),
    ]);
    return {request: request, pollingHeads: pollingHeads};
  }

  async function openFetch() {
    // A first request opens the HTTP connection outside the clock, as the
    // other methods connect before theirs.
    await postEcho(TEXT);
    let requestBytes = 0;
    let responseBytes = 0;
    return {
      start() {
        requestBytes = responseBytes = 0;
      },
      async echo(text) {
        const {reply, responseBytes: bytes} = await postEcho(text);
        requestBytes += reply.request_bytes;
        responseBytes += bytes;
        return reply.data;
      },
      async bytes(run) {
        const entries = await responseEntries(isEchoUrl, run.since, run.rounds);
        const measured = measuredResponses(entries);
        const responses = measured === null ? responseBytes : measured;
        const how = numbers.format(run.rounds) + ' POSTs ' + overProtocol(entries)
          + '. Requests, ' + formatBytes(requestBytes / run.rounds) + ' each: as the server '
          + 'received them (request line, headers and body, reported by ' + ECHO_URL.pathname
          + '; behind a proxy, as the proxy passed them on). Responses, '
          + formatBytes(responses / run.rounds) + ' each: '
          + (measured === null
            ? 'computed from the status line and headers the browser shows the page, plus the body.'
            : 'Resource Timing transferSize (headers and body), measured by the browser.');
        return {
          perTrip: (requestBytes + responses) / run.rounds,
          how: how,
          flatTransferSize: flatTransferSize(entries),
        };
      },
      close() {},
    };
  }

  // ----------------------------------------------------- WebSocket

  function webSocketUrl() {
    const scheme = self.location.protocol === 'https:' ? 'wss://' : 'ws://';
    return scheme + self.location.host + (config.wsPath || '/ws/echo');
  }

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
  function echoChannel(ws) {
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
      return withTimeout(reply, TIMEOUT_MS, 'No echo within ' + TIMEOUT_MS / 1000 + ' s.');
    };
  }

  async function openWebSocket() {
    const ws = await connectWebSocket(webSocketUrl());
    const send = echoChannel(ws);
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

  function deflateNote(extensions) {
    if (extensions === undefined) return 'Payloads counted as sent, before any compression.';
    if (!/permessage-deflate/.test(extensions)) return 'No compression was negotiated.';
    return 'Before compression: the connection negotiated permessage-deflate, so the payloads '
      + 'on the wire were compressed and may be a few bytes smaller.';
  }

  // ----------------------------------------------------- Socket.IO

  function connectSocketIO(transport) {
    return new Promise((resolve, reject) => {
      // forceNew: io() would otherwise reuse the manager, and with it the
      // transport, of the previous method.
      const socket = self.io(NAMESPACE, {
        path: SOCKETIO_PATH,
        transports: [transport],
        forceNew: true,
        reconnection: false,
        timeout: TIMEOUT_MS,
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
    // Long-polling sends the packets queued since the last flush as one
    // POST body, separated by a record separator (\x1e).
    engine.on('flush', () => {
      if (tally.counting && unflushed.length) tally.posts.push(sum(unflushed) + unflushed.length - 1);
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

  async function openSocketIO(transport) {
    const socket = await connectSocketIO(transport);
    const engine = socket.io.engine;
    const tally = watchEngine(engine);
    if (transport === 'polling') await drained(engine);
    return {
      start() {
        tally.counting = true;
      },
      async echo(text) {
        const reply = await socket.timeout(TIMEOUT_MS).emitWithAck('echo', text);
        if (reply && reply.ok === false) throw new Error(reply.message || reply.error);
        return reply;
      },
      async bytes(run) {
        tally.counting = false;
        return transport === 'websocket'
          ? socketIOFrames(tally, engine, run)
          : socketIOPolling(tally, run);
      },
      close() {
        tally.counting = false;
        socket.disconnect();
      },
    };
  }

  function socketIOFrames(tally, engine, run) {
    const sent = sum(tally.sent.map((n) => frameBytes(n, true)));
    const received = sum(tally.received.map((n) => frameBytes(n, false)));
    // The socket behind the transport is engine.io-client's own; read only
    // to say whether compression was negotiated.
    const ws = engine.transport && engine.transport.ws;
    return {
      perTrip: (sent + received) / run.rounds,
      how: 'Computed exactly from the ' + numbers.format(tally.sent.length) + ' packets sent ('
        + '42' + NAMESPACE + ',<ack id>["echo","…"] in masked frames: 6 bytes of header and mask) and '
        + numbers.format(tally.received.length) + ' received (43' + NAMESPACE
        + ',<ack id>["…"]: 2 bytes of header) during the run, pings included. '
        + deflateNote(ws ? ws.extensions : undefined),
    };
  }

  async function socketIOPolling(tally, run) {
    const expected = tally.posts.length + tally.polls;
    const entries = await responseEntries(isSocketIOUrl, run.since, expected);
    const responses = pollingResponseBytes(entries, tally.posts.length, run.probe.pollingHeads);
    const request = run.probe.request;
    const requests = request ? pollingRequestBytes(entries, tally.posts, request) : null;
    const count = numbers.format(entries.length) + ' requests to ' + SOCKETIO_PATH + '/ ('
      + numbers.format(tally.posts.length) + ' POSTs, ' + numbers.format(tally.polls) + ' GETs) '
      + overProtocol(entries) + '. ';
    if (requests === null || responses === null) {
      return {perTrip: null, how: count + 'Not known this time: the '
        + (requests === null ? ECHO_URL.pathname : 'Engine.IO handshake') + ' probe failed.'};
    }
    const how = count + 'Responses, ' + formatBytes(responses.bytes / entries.length) + ' each: '
      + responses.how + '. Requests, ' + formatBytes(requests / entries.length) + ' each: estimated, '
      + 'since browsers do not expose them, from the headers of one ' + ECHO_URL.pathname
      + ' request as the server measured it (' + numbers.format(request.requestBytes)
      + ' bytes in all), adjusted for each URL, method and POST body.';
    return {
      perTrip: (requests + responses.bytes) / run.rounds,
      how: how,
      flatTransferSize: flatTransferSize(entries),
    };
  }

  /**
   * Long-polling responses: the browser's own figure if it has a real one;
   * otherwise each body's real size (encodedBodySize) with the headers of
   * the probe's responses, `posts` of them POST ones.
   */
  function pollingResponseBytes(entries, posts, heads) {
    const measured = measuredResponses(entries);
    if (measured !== null) {
      return {bytes: measured, how: 'Resource Timing transferSize (headers and body), measured by the browser'};
    }
    if (heads === null) return null;
    let bytes = posts * heads.post + (entries.length - posts) * heads.get;
    for (const entry of entries) {
      const body = entry.encodedBodySize;
      bytes += headerLength('Content-Length', String(body)) + body;
    }
    return {
      bytes: bytes,
      how: 'real body sizes (Resource Timing encodedBodySize) plus the headers of the responses to '
        + 'a GET and a POST the page sent to ' + SOCKETIO_PATH + '/ before the run ('
        + numbers.format(heads.get) + ' and ' + numbers.format(heads.post)
        + ' bytes without Content-Length)',
    };
  }

  /**
   * Long-polling requests, each taken as the probe's common headers plus its
   * own request line; POSTs add an Origin, their body and its two headers
   * (same-origin GETs carry no Origin).
   */
  function pollingRequestBytes(entries, posts, probe) {
    const origin = headerLength('Origin', self.location.origin);
    let total = 0;
    for (const entry of entries) {
      total += requestLineLength('GET', new URL(entry.name)) + probe.common - origin;
    }
    for (const body of posts) {
      total += 1 + origin + headerLength('Content-Type', POLLING_TYPE)
        + headerLength('Content-Length', String(body)) + body;  // 1: "POST" is longer than "GET"
    }
    return total;
  }

  // ---------------------------------------------------------- timing

  function checkStopped() {
    if (stopRequested) throw new Stopped('stopped');
  }

  function median(sorted) {
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  // Nearest rank: the smallest time that 95% of the round trips did not exceed.
  function percentile(sorted, p) {
    return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
  }

  function showProgress(done, rounds) {
    els.progress.max = rounds;
    els.progress.value = done;
  }

  /** Connects, times `rounds` round trips, measures bytes, disconnects. */
  async function timeMethod(method, rounds, probe) {
    const session = await method.open();
    try {
      resetResourceTimings(rounds);
      const times = new Float64Array(rounds);
      session.start();
      const since = performance.now();
      for (let i = 0; i < rounds; i++) {
        checkStopped();
        const t0 = performance.now();
        const reply = await session.echo(TEXT);
        times[i] = performance.now() - t0;
        if (reply !== TEXT) throw new Error('The echo came back different.');
        showProgress(i + 1, rounds);
      }
      const total = performance.now() - since;
      const bytes = await session.bytes({rounds: rounds, since: since, probe: probe});
      times.sort();
      return {
        total: total,
        median: median(times),
        p95: percentile(times, 0.95),
        rps: rounds / (total / 1000),
        bytes: bytes.perTrip,
        how: bytes.how,
        flatTransferSize: Boolean(bytes.flatTransferSize),
      };
    } finally {
      session.close();
    }
  }

  async function runAll(rounds) {
    const run = {number: runs.length + 1, rounds: rounds, results: {}};
    latest = run;
    startResults(run);
    // A failed probe leaves only the long-polling byte counts unknown.
    const probe = await probeHttp();
    for (const [index, method] of METHODS.entries()) {
      checkStopped();
      setStatus('Running ' + (index + 1) + ' of ' + METHODS.length + ': ' + method.label + '…');
      markRow(method, 'running');
      try {
        run.results[method.id] = await timeMethod(method, rounds, probe);
      } catch (err) {
        if (err instanceof Stopped) throw err;
        run.results[method.id] = {error: err.message || String(err)};
      }
      showResult(method, run.results[method.id]);
      drawChart();
    }
    runs.push(run);
    addHistoryRow(run);
    setStatus(summaryText(run));
  }

  function summaryText(run) {
    const done = METHODS.filter((m) => !run.results[m.id].error);
    if (!done.length) return 'Run ' + run.number + ' failed: no method completed.';
    const fastest = done.reduce((a, b) => (run.results[b.id].rps > run.results[a.id].rps ? b : a));
    const failed = METHODS.length - done.length;
    return 'Run ' + run.number + ' done: ' + fastest.label + ' was fastest, '
      + formatRate(run.results[fastest.id].rps) + ' round trips per second.'
      + (failed ? ' ' + failed + ' method' + (failed > 1 ? 's' : '') + ' failed.' : '');
  }

  // --------------------------------------------------------- display

  function formatMs(ms) {
    if (ms >= 10000) return (ms / 1000).toFixed(1) + ' s';
    if (ms >= 100) return numbers.format(ms) + ' ms';
    return ms.toFixed(ms >= 10 ? 1 : 2) + ' ms';
  }

  function formatRate(rps) {
    return rps >= 100 ? numbers.format(rps) : rps.toFixed(1);
  }

  function formatBytes(bytes) {
    return bytes === null ? 'n/a' : decimals.format(bytes) + ' B';
  }

  function setStatus(text) {
    els.status.textContent = text;
  }

  function cell(tag, text, label, className) {
    const el = document.createElement(tag);
    el.textContent = text;
    // Read by the stacked layout on narrow screens (speed.css).
    if (label) el.dataset.label = label;
    if (className) el.className = className;
    return el;
  }

  const COLUMNS = [
    {label: 'Total', key: 'total', format: formatMs},
    {label: 'Median', key: 'median', format: formatMs},
    {label: 'p95', key: 'p95', format: formatMs},
    {label: 'Round trips/s', key: 'rps', format: formatRate},
    {label: 'Bytes per round trip', key: 'bytes', format: formatBytes},
  ];

  function startResults(run) {
    els.results.hidden = false;
    els.resultsTitle.textContent = 'Run ' + run.number + ': ' + numbers.format(run.rounds)
      + ' round trips per method';
    els.resultsBody.replaceChildren();
    els.notes.replaceChildren();
    els.transferNote.hidden = true;
    for (const method of METHODS) {
      const row = document.createElement('tr');
      row.dataset.method = method.id;
      row.dataset.state = 'waiting';
      row.append(cell('th', method.label));
      row.firstChild.scope = 'row';
      row.append(cell('td', 'waiting…', 'Result', 'pending'));
      row.lastChild.colSpan = COLUMNS.length;
      els.resultsBody.append(row);
    }
    drawChart();
  }

  function markRow(method, state) {
    const row = els.resultsBody.querySelector('tr[data-method="' + method.id + '"]');
    row.dataset.state = state;
    row.lastChild.textContent = state + '…';
  }

  function showResult(method, result) {
    const row = els.resultsBody.querySelector('tr[data-method="' + method.id + '"]');
    row.replaceChildren(row.firstChild);
    if (result.error) {
      row.dataset.state = 'failed';
      row.append(cell('td', 'Failed: ' + result.error, 'Result', 'failed'));
      row.lastChild.colSpan = COLUMNS.length;
    } else {
      row.dataset.state = 'done';
      for (const column of COLUMNS) {
        const value = result[column.key];
        const td = cell('td', column.format(value), column.label, 'num ' + column.key);
        if (value !== null) td.dataset.value = String(value);
        row.append(td);
      }
    }
    const note = document.createElement('li');
    note.append(cell('strong', method.label + ': '), result.error ? 'not measured.' : result.how);
    els.notes.append(note);
    if (result.flatTransferSize) els.transferNote.hidden = false;
  }

  function addHistoryRow(run) {
    els.history.hidden = false;
    const row = document.createElement('tr');
    row.dataset.run = String(run.number);
    row.append(cell('th', String(run.number)), cell('td', numbers.format(run.rounds), null, 'num'));
    row.firstChild.scope = 'row';
    for (const method of METHODS) row.append(historyCell(run.results[method.id]));
    els.historyBody.prepend(row);
  }

  function historyCell(result) {
    const td = cell('td', '', null, 'num');
    if (result.error) {
      td.textContent = 'failed';
      td.title = result.error;
      return td;
    }
    td.append(cell('span', formatRate(result.rps) + '/s', null, 'history-rate'),
      cell('span', formatMs(result.median) + ' · ' + formatBytes(result.bytes), null, 'history-detail'));
    return td;
  }

  // ----------------------------------------------------------- chart

  function svg(tag, attributes, text) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, String(value));
    if (text !== undefined) el.textContent = text;
    return el;
  }

  /**
   * Horizontal bars, one per completed method, for the chosen metric. The
   * viewBox is the element's own width in pixels, so labels keep their
   * size from a phone to a desktop (redrawn on resize).
   */
  function drawChart() {
    const metric = CHART_METRICS[els.chartMetric.value] || CHART_METRICS.rps;
    els.chartTitle.textContent = metric.title;
    const results = latest ? latest.results : {};
    const rows = METHODS.map((m) => ({method: m, result: results[m.id]}));
    const values = rows.map((r) => (r.result && !r.result.error ? metric.value(r.result) : null));
    const max = Math.max(0, ...values.filter((v) => v !== null));
    const width = Math.max(200, Math.round(els.chart.getBoundingClientRect().width) || 600);
    const rowHeight = 46;
    const height = rows.length * rowHeight;
    els.chart.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    // role="img" hides the bars' text from screen readers; the name says it all.
    els.chart.setAttribute('aria-label', metric.title + ': ' + rows.map((row, i) =>
      row.method.label + ' ' + (chartValueText(row.result, values[i], metric) || 'waiting')).join('; '));
    els.chart.setAttribute('height', String(height));
    els.chart.replaceChildren();
    rows.forEach((row, i) => {
      const y = i * rowHeight;
      const value = values[i];
      els.chart.append(svg('text', {x: 0, y: y + 15, class: 'chart-label'}, row.method.label));
      els.chart.append(svg('text', {x: width, y: y + 15, class: 'chart-value', 'text-anchor': 'end'},
        chartValueText(row.result, value, metric)));
      els.chart.append(svg('rect', {x: 0, y: y + 22, width: width, height: 14, rx: 3, class: 'track'}));
      if (value === null) return;
      els.chart.append(svg('rect', {
        x: 0, y: y + 22, width: max > 0 ? Math.max(2, (value / max) * width) : 2, height: 14, rx: 3,
        class: 'bar bar-' + row.method.id, 'data-method': row.method.id,
      }));
    });
  }

  function chartValueText(result, value, metric) {
    if (!result) return '';
    if (result.error) return 'failed';
    return metric.format(value);
  }

  // ------------------------------------------------------------ form

  /** The number of round trips typed, or an error for a person. */
  function readRounds() {
    const raw = els.rounds.value.trim();
    const message = 'Enter a whole number from ' + numbers.format(MIN_ROUNDS) + ' to '
      + numbers.format(MAX_ROUNDS) + '.';
    if (!/^\d+$/.test(raw)) return {error: message};
    const rounds = Number(raw);
    if (rounds < MIN_ROUNDS || rounds > MAX_ROUNDS) return {error: message};
    return {rounds: rounds};
  }

  function setRunning(running) {
    root.dataset.running = running ? 'true' : 'false';
    els.run.disabled = running;
    els.rounds.disabled = running;
    els.stop.hidden = !running;
    els.progress.hidden = !running;
    if (running) showProgress(0, 1);
  }

  async function onSubmit(event) {
    event.preventDefault();
    const {rounds, error} = readRounds();
    els.error.textContent = error || '';
    els.rounds.setAttribute('aria-invalid', error ? 'true' : 'false');
    if (error) {
      els.rounds.focus();
      return;
    }
    stopRequested = false;
    setRunning(true);
    try {
      await runAll(rounds);
    } catch (err) {
      setStatus(err instanceof Stopped
        ? 'Stopped: this run is not kept.'
        : 'The run failed: ' + (err.message || String(err)));
    } finally {
      setRunning(false);
      // Run and Stop were disabled or hidden under the keyboard focus: give
      // it back, without scrolling away from the results being read.
      if (document.activeElement === document.body) els.run.focus({preventScroll: true});
    }
  }

  function init() {
    for (const method of METHODS) {
      els.historyHead.append(cell('th', method.label, null, 'num'));
      els.historyHead.lastChild.scope = 'col';
    }
    if (typeof self.io !== 'function') {
      setStatus('The Socket.IO client did not load; reload the page.');
      els.run.disabled = true;
      return;
    }
    els.form.addEventListener('submit', onSubmit);
    els.stop.addEventListener('click', () => {
      stopRequested = true;
      setStatus('Stopping after this round trip…');
    });
    els.chartMetric.addEventListener('change', drawChart);
    let lastWidth = 0;
    self.addEventListener('resize', () => {
      const width = Math.round(els.chart.getBoundingClientRect().width);
      if (latest && width !== lastWidth) drawChart();
      lastWidth = width;
    });
    root.dataset.ready = 'true';
  }

  init();
})();
