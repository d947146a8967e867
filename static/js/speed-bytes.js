/*
 * The speed test's byte accounting: how many bytes a round trip put on the
 * wire, from what the page can see.
 *
 * Browsers hide WebSocket frames, so those are computed from the real
 * strings sent and received (RFC 6455 framing). For HTTP responses Resource
 * Timing's transferSize is used where it is a real measurement; Chromium's
 * is the body plus a flat 300 bytes (the spec now hides header sizes), so
 * there the real body size is added to headers the page reads itself. HTTP
 * requests are only seen by the server, which reports their size; the
 * long-polling ones are estimated from one such report. Sizes are counted
 * as HTTP/1.1 text: what this server speaks, but not what a proxy in front
 * of it may speak to the browser.
 *
 * Pure arithmetic on strings, numbers and Resource Timing entries (plain
 * objects will do): no DOM, no network. The Node tests (tests/js/) import
 * this file as is.
 */

// What /api/echo is sent.
export const JSON_TYPE = 'application/json';
// engine.io-client's polling POSTs say this (engine.io-client, polling-xhr).
export const POLLING_TYPE = 'text/plain;charset=UTF-8';
// What Chromium's transferSize adds to the body instead of the real headers.
export const FLAT_HEADER_BYTES = 300;

const encoder = new TextEncoder();

export function sum(values) {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

export function utf8Length(text) {
  return encoder.encode(text).length;
}

// ------------------------------------------------------------ WebSocket

/**
 * Bytes of one unfragmented WebSocket frame (RFC 6455, 5.2): a 2-byte
 * header, 2 or 8 more for longer payloads, and a 4-byte mask on frames
 * from the client.
 */
export function frameBytes(payloadLength, fromClient) {
  const header = payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10;
  return header + (fromClient ? 4 : 0) + payloadLength;
}

// Engine.IO v4 writes a text packet as its type digit then its data, e.g.
// "4" + '2/speed,7["echo","hello, wall"]'; a ping is just "2".
export function packetLength(packet) {
  return 1 + (typeof packet.data === 'string' ? utf8Length(packet.data) : 0);
}

// Long-polling sends the packets queued since the last flush as one POST
// body, separated by a record separator (\x1e): the body of packets of
// these lengths.
export function pollingBodyLength(packetLengths) {
  return sum(packetLengths) + packetLengths.length - 1;
}

// ----------------------------------------------------------------- HTTP

export function requestLineLength(method, url) {
  return utf8Length(method + ' ' + url.pathname + url.search + ' HTTP/1.1\r\n');
}

export function headerLength(name, value) {
  return utf8Length(name + ': ' + value + '\r\n');
}

/**
 * Bytes of a response's status line and headers (and the blank line after
 * them), as the page sees them: `response` is a fetch Response, or anything
 * with status, statusText and headers.forEach.
 */
export function headLength(response) {
  let length = utf8Length('HTTP/1.1 ' + response.status + ' ' + response.statusText + '\r\n') + 2;
  // Same origin: every header but Set-Cookie is visible to the page.
  response.headers.forEach((value, name) => {
    length += headerLength(name, value);
  });
  return length;
}

/** A response's status line and headers, but its Content-Length. */
export function headWithoutLength(response) {
  const length = response.headers.get('Content-Length');
  return headLength(response) - (length === null ? 0 : headerLength('Content-Length', length));
}

/**
 * The bytes of the headers any same-origin request from this page carries
 * (cookies, user agent, Sec-Fetch-…), from one POST of `body` to `url`
 * that the server measured as `requestBytes`: what is left when its request
 * line, its body and the two body headers are taken away.
 */
export function commonRequestBytes(requestBytes, url, body) {
  const bodyLength = utf8Length(body);
  return requestBytes - requestLineLength('POST', url) - bodyLength
    - headerLength('Content-Type', JSON_TYPE) - headerLength('Content-Length', String(bodyLength));
}

// ------------------------------------------------------- resource timing

// Resource Timing now hides header sizes: transferSize is the body plus
// a flat 300 bytes (what Chromium reports), not what crossed the wire.
export function flatTransferSize(entries) {
  return entries.length > 0
    && entries.every((e) => e.transferSize - e.encodedBodySize === FLAT_HEADER_BYTES);
}

/** Response bytes as the browser measured them, or null if it did not. */
export function measuredResponses(entries) {
  // 0 means hidden (cross-origin without Timing-Allow-Origin) or cached.
  if (!entries.length || entries.some((e) => !e.transferSize) || flatTransferSize(entries)) return null;
  return sum(entries.map((e) => e.transferSize));
}

/**
 * Long-polling responses: {bytes, measured}. The browser's own figure if
 * it has a real one (measured: true); otherwise each body's real size
 * (encodedBodySize) with the headers of the probe's responses
 * (`heads`: {get, post}, bytes without Content-Length), `posts` of them
 * POST ones. Null when neither is known.
 */
export function pollingResponseBytes(entries, posts, heads) {
  const measured = measuredResponses(entries);
  if (measured !== null) return { bytes: measured, measured: true };
  if (heads === null) return null;
  let bytes = posts * heads.post + (entries.length - posts) * heads.get;
  for (const entry of entries) {
    const body = entry.encodedBodySize;
    bytes += headerLength('Content-Length', String(body)) + body;
  }
  return { bytes: bytes, measured: false };
}

/**
 * Long-polling requests, each taken as the probe's common headers
 * (`probe.common`, measured on a POST, so with an Origin) plus its own
 * request line; POSTs add an Origin, their body and its two headers
 * (same-origin GETs carry no Origin). `posts` are the POST bodies' lengths.
 */
export function pollingRequestBytes(entries, posts, probe, origin) {
  const originHeader = headerLength('Origin', origin);
  let total = 0;
  for (const entry of entries) {
    total += requestLineLength('GET', new URL(entry.name)) + probe.common - originHeader;
  }
  for (const body of posts) {
    total += 1 + originHeader + headerLength('Content-Type', POLLING_TYPE)
      + headerLength('Content-Length', String(body)) + body; // 1: "POST" is longer than "GET"
  }
  return total;
}
