/*
 * The speed test over plain HTTP: the `fetch` method (one POST to
 * /api/echo per round trip), the untimed probes that the long-polling byte
 * counts are estimated from, and the Resource Timing entries both read.
 *
 * Every function takes the page's `config` (speed.js): echoUrl, origin,
 * socketioPath, text, timeoutMs. A method is opened before its clock
 * starts and its session is {start, echo, bytes, close} (speed-run.js).
 */

import {
  JSON_TYPE, POLLING_TYPE, utf8Length, headLength, headWithoutLength, commonRequestBytes,
  flatTransferSize, measuredResponses,
} from './speed-bytes.js';
import { formatBytes, formatCount } from './speed-format.js';

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch (err) {
    return null;
  }
}

// ------------------------------------------------------ resource timing

// A polling run makes two entries per round trip; past the buffer's size
// the browser drops entries without a word.
export function resetResourceTimings(rounds) {
  performance.clearResourceTimings();
  performance.setResourceTimingBufferSize(3 * rounds + 100);
}

/**
 * The resource entries for URLs matching `matches` that finished after
 * `since`. Chromium adds an entry shortly after the response was read, so
 * wait (a little) for the `expected` count.
 */
export async function responseEntries(matches, since, expected) {
  const deadline = performance.now() + 3000;
  for (;;) {
    const found = performance.getEntriesByType('resource').filter(
      (e) => e.responseEnd >= since && matches(new URL(e.name)));
    if (found.length >= expected || performance.now() > deadline) return found;
    await sleep(50);
  }
}

export function isSocketIOUrl(config, url) {
  return url.origin === config.origin && url.pathname.startsWith(config.socketioPath + '/');
}

function isEchoUrl(config, url) {
  return url.origin === config.echoUrl.origin && url.pathname === config.echoUrl.pathname;
}

// Sizes are counted as HTTP/1.1 text: what this server speaks, but not
// what a proxy in front of it may speak to the browser.
export function overProtocol(entries) {
  const protocol = (entries.length && entries[0].nextHopProtocol) || 'an unknown protocol';
  if (protocol === 'http/1.1' || protocol === 'an unknown protocol') return 'over ' + protocol;
  return 'over ' + protocol + ' (counted as HTTP/1.1 text; ' + protocol + ' compresses headers, '
    + 'so fewer bytes crossed the wire)';
}

// ---------------------------------------------------------------- echo

/** One POST to /api/echo: the reply, and the response's size in bytes. */
async function postEcho(config, text) {
  const response = await fetch(config.echoUrl.href, {
    method: 'POST',
    headers: {'Content-Type': JSON_TYPE},
    body: JSON.stringify({data: text}),
    // No cache option: POSTs are never served from the cache, and
    // 'no-store' would add two request headers an AJAX call rarely has.
    signal: AbortSignal.timeout(config.timeoutMs),
  });
  const body = await response.text();
  const reply = parseJson(body);
  if (!response.ok || !reply) {
    throw new Error((reply && reply.message) || 'The server answered ' + response.status + '.');
  }
  return {reply: reply, responseBytes: headLength(response) + utf8Length(body)};
}

// --------------------------------------------------------------- probes

/**
 * One untimed POST to /api/echo. The server reports its size; take away
 * the request line, the body and the two body headers, and what is left
 * are the headers any same-origin request from this page carries (cookies,
 * user agent, Sec-Fetch-…). Long-polling requests are estimated from it.
 */
async function probeRequest(config) {
  const {reply} = await postEcho(config, config.text);
  const common = commonRequestBytes(reply.request_bytes, config.echoUrl, JSON.stringify({data: config.text}));
  return {requestBytes: reply.request_bytes, common: common};
}

/**
 * The headers of Socket.IO long-polling responses, which the page cannot
 * read from the socket.io client's own requests: it opens an Engine.IO
 * session of its own with a GET (the handshake) and closes it with a POST,
 * and reads both responses. GETs and POSTs are answered with different
 * headers (the server names the origin only when the request has one).
 */
async function probePollingHeads(config) {
  const url = new URL(config.socketioPath + '/?EIO=4&transport=polling', config.origin);
  const opened = await fetch(url.href, {cache: 'no-store', signal: AbortSignal.timeout(config.timeoutMs)});
  const body = await opened.text();
  const open = opened.ok && body[0] === '0' ? parseJson(body.slice(1)) : null;
  if (!open || !open.sid) throw new Error('no Engine.IO handshake');
  url.searchParams.set('sid', open.sid);
  // "1" is an Engine.IO close packet.
  const closed = await fetch(url.href, {
    method: 'POST', headers: {'Content-Type': POLLING_TYPE}, body: '1',
    signal: AbortSignal.timeout(config.timeoutMs),
  });
  await closed.text();
  if (!closed.ok) throw new Error('the Engine.IO close was refused');
  return {get: headWithoutLength(opened), post: headWithoutLength(closed)};
}

/**
 * What the bytes of HTTP requests and responses are estimated from:
 * {request, pollingHeads}, each null if its probe failed.
 */
export async function probeHttp(config) {
  const [request, pollingHeads] = await Promise.all([
    probeRequest(config).catch(() => null),
    probePollingHeads(config).catch(() => null),
  ]);
  return {request: request, pollingHeads: pollingHeads};
}

// --------------------------------------------------------- the method

export async function openFetch(config) {
  // A first request opens the HTTP connection outside the clock, as the
  // other methods connect before theirs.
  await postEcho(config, config.text);
  let requestBytes = 0;
  let responseBytes = 0;
  return {
    start() {
      requestBytes = responseBytes = 0;
    },
    async echo(text) {
      const {reply, responseBytes: bytes} = await postEcho(config, text);
      requestBytes += reply.request_bytes;
      responseBytes += bytes;
      return reply.data;
    },
    async bytes(run) {
      const entries = await responseEntries((url) => isEchoUrl(config, url), run.since, run.rounds);
      const measured = measuredResponses(entries);
      const responses = measured === null ? responseBytes : measured;
      const how = formatCount(run.rounds) + ' POSTs ' + overProtocol(entries)
        + '. Requests, ' + formatBytes(requestBytes / run.rounds) + ' each: as the server '
        + 'received them (request line, headers and body, reported by ' + config.echoUrl.pathname
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
