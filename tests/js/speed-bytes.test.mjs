// The speed test's byte accounting (static/js/speed-bytes.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  JSON_TYPE, POLLING_TYPE, sum, utf8Length, frameBytes, packetLength, pollingBodyLength,
  requestLineLength, headerLength, headLength, headWithoutLength, commonRequestBytes,
  flatTransferSize, measuredResponses, pollingResponseBytes, pollingRequestBytes,
} from '../../static/js/speed-bytes.js';

const ORIGIN = 'http://127.0.0.1:5000';

test('sum and utf8Length', () => {
  assert.equal(sum([]), 0);
  assert.equal(sum([1, 2, 3.5]), 6.5);
  assert.equal(sum(new Float64Array([4, 5])), 9);
  assert.equal(utf8Length('hello, wall'), 11);
  assert.equal(utf8Length('h\u00e9llo'), 6); // é is two bytes
  assert.equal(utf8Length('\u{1F600}'), 4);
  assert.equal(utf8Length(''), 0);
});

test('frameBytes: 2-byte header up to 125 bytes, plus a 4-byte mask from the client', () => {
  assert.equal(frameBytes(0, false), 2);
  assert.equal(frameBytes(0, true), 6);
  assert.equal(frameBytes(11, false), 13);
  assert.equal(frameBytes(11, true), 17);
  assert.equal(frameBytes(125, false), 127);
});

test('frameBytes: 2 more header bytes from 126, 8 more from 65536', () => {
  assert.equal(frameBytes(126, false), 130);
  assert.equal(frameBytes(126, true), 134);
  assert.equal(frameBytes(65535, false), 65539);
  assert.equal(frameBytes(65536, false), 65546);
  assert.equal(frameBytes(65536, true), 65550);
});

test('packetLength: the type digit plus the data in UTF-8', () => {
  // "4" + '2/speed,7["echo","hello, wall"]', as Engine.IO writes a message
  const data = '2/speed,7["echo","hello, wall"]';
  assert.equal(packetLength({ type: 'message', data: data }), 1 + data.length);
  assert.equal(packetLength({ type: 'message', data: '2["\u00e9"]' }), 1 + 7);
  assert.equal(packetLength({ type: 'ping' }), 1);
  assert.equal(packetLength({ type: 'pong', data: undefined }), 1);
});

test('pollingBodyLength: packets joined by one record separator each', () => {
  assert.equal(pollingBodyLength([1]), 1);
  assert.equal(pollingBodyLength([1, 30]), 32);
  assert.equal(pollingBodyLength([5, 5, 5]), 17);
});

test('requestLineLength counts method, path, query and HTTP/1.1', () => {
  // "POST /api/echo HTTP/1.1\r\n"
  assert.equal(requestLineLength('POST', new URL(ORIGIN + '/api/echo')), 25);
  // "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n"
  assert.equal(requestLineLength('GET', new URL(ORIGIN + '/socket.io/?EIO=4&transport=polling')), 50);
  assert.equal(requestLineLength('GET', new URL(ORIGIN + '/')), 16);
});

test('headerLength: "name: value" and CRLF', () => {
  assert.equal(headerLength('Content-Length', '22'), 20);
  assert.equal(headerLength('Content-Type', JSON_TYPE), 32);
  assert.equal(headerLength('Content-Type', POLLING_TYPE), 40);
  assert.equal(headerLength('Origin', ORIGIN), 31);
});

function response(status, statusText, headers) {
  return { status: status, statusText: statusText, headers: new Headers(headers) };
}

test('headLength: status line, each header, and the blank line', () => {
  const r = response(200, 'OK', { 'Content-Type': 'application/json', 'Content-Length': '27' });
  // "HTTP/1.1 200 OK\r\n" 17, "content-length: 27\r\n" 20,
  // "content-type: application/json\r\n" 32, "\r\n" 2
  assert.equal(headLength(r), 71);
  assert.equal(headLength(response(404, 'NOT FOUND', {})), 26); // 24 + 2
});

test('headLength reads a real fetch Response too', () => {
  const r = new Response('{}', { status: 201, statusText: 'CREATED', headers: { 'X-A': 'b' } });
  // Response adds its own content-type for a string body.
  let expected = 'HTTP/1.1 201 CREATED\r\n'.length + 2;
  r.headers.forEach((value, name) => { expected += name.length + 2 + value.length + 2; });
  assert.equal(headLength(r), expected);
  assert.ok(expected > 'HTTP/1.1 201 CREATED\r\n'.length + 2 + 'x-a: b\r\n'.length);
});

test('headWithoutLength takes Content-Length away, when there is one', () => {
  const r = response(200, 'OK', { 'Content-Type': 'application/json', 'Content-Length': '27' });
  assert.equal(headWithoutLength(r), 51);
  const chunked = response(200, 'OK', { 'Content-Type': 'application/json' });
  assert.equal(headWithoutLength(chunked), headLength(chunked));
});

test('commonRequestBytes: what is left of the probe POST without its own parts', () => {
  const body = JSON.stringify({ data: 'hello, wall' });
  assert.equal(utf8Length(body), 22);
  // 500 - request line 25 - body 22 - Content-Type 32 - Content-Length 20
  assert.equal(commonRequestBytes(500, new URL(ORIGIN + '/api/echo'), body), 401);
});

const flat = (body) => ({ encodedBodySize: body, transferSize: body + 300 });

test('flatTransferSize: every entry is its body plus 300', () => {
  assert.equal(flatTransferSize([]), false);
  assert.equal(flatTransferSize([flat(1), flat(30)]), true);
  assert.equal(flatTransferSize([flat(1), { encodedBodySize: 30, transferSize: 250 }]), false);
});

test('measuredResponses: the sum of real transfer sizes, else null', () => {
  assert.equal(measuredResponses([]), null);
  assert.equal(measuredResponses([flat(1), flat(2)]), null); // the flat estimate
  assert.equal(measuredResponses([{ encodedBodySize: 5, transferSize: 0 }]), null); // hidden or cached
  assert.equal(measuredResponses([
    { encodedBodySize: 5, transferSize: 180 },
    { encodedBodySize: 2, transferSize: 170 },
  ]), 350);
});

test('pollingResponseBytes: the browser\'s figure when it is real', () => {
  const entries = [{ encodedBodySize: 5, transferSize: 180 }, { encodedBodySize: 2, transferSize: 170 }];
  assert.deepEqual(pollingResponseBytes(entries, 1, null), { bytes: 350, measured: true });
});

test('pollingResponseBytes: else the probe\'s heads plus each real body', () => {
  const entries = [flat(1), flat(30), flat(2)];
  // 1 POST (150) and 2 GETs (200 each), each with Content-Length and body:
  // 19 + 1, 20 + 30, 19 + 2
  assert.deepEqual(pollingResponseBytes(entries, 1, { get: 200, post: 150 }),
    { bytes: 150 + 400 + 20 + 50 + 21, measured: false });
  assert.equal(pollingResponseBytes(entries, 1, null), null);
});

test('pollingRequestBytes: common headers per request, Origin and body per POST', () => {
  const entries = [
    { name: ORIGIN + '/socket.io/?EIO=4&transport=polling' }, // request line 50
    { name: ORIGIN + '/' }, // request line 16
  ];
  const probe = { common: 401 };
  const gets = (50 + 401 - 31) + (16 + 401 - 31);
  assert.equal(pollingRequestBytes(entries, [], probe, ORIGIN), gets);
  // One POST of 32 bytes: 1 ("POST" vs "GET") + Origin 31 + Content-Type 40
  // + Content-Length 20 + 32
  assert.equal(pollingRequestBytes(entries, [32], probe, ORIGIN), gets + 124);
  assert.equal(pollingRequestBytes([], [], probe, ORIGIN), 0);
});
