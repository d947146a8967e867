// The hub (static/js/connection-hub.js) against a fake socket.io client:
// what it tells its clients, what it asks the server, and in which order.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Hub } from '../../static/js/connection-hub.js';
import { workerName } from '../../static/js/connection.js';

// Just enough of a socket.io-client Socket for the hub.
class FakeSocket {
  constructor(url, options) {
    this.url = url;
    this.options = options;
    this.connected = false;
    this.handlers = {};
    this.anyHandlers = [];
    this.emitted = []; // {event, data, timeout, ack}
    this.connects = 0;
    this.disconnects = 0;
    this.io = { on() {}, engine: { transport: { name: 'polling' }, on() {} } };
  }

  on(event, handler) {
    (this.handlers[event] = this.handlers[event] || []).push(handler);
  }

  onAny(handler) {
    this.anyHandlers.push(handler);
  }

  connect() {
    this.connects += 1;
  }

  disconnect() {
    this.connected = false;
    this.disconnects += 1;
  }

  timeout(ms) {
    return { emit: (event, data, ack) => this.emitted.push({ event, data, timeout: ms, ack }) };
  }

  // ---- driven by the tests
  fire(event, ...args) {
    for (const handler of this.handlers[event] || []) handler(...args);
  }

  up(transport) {
    this.connected = true;
    this.io.engine.transport.name = transport || 'websocket';
    this.fire('connect');
  }

  down(reason) {
    this.connected = false;
    this.fire('disconnect', reason || 'transport close');
  }

  server(event, data) {
    for (const handler of this.anyHandlers) handler(event, data);
  }

  take(event) {
    const i = this.emitted.findIndex((e) => e.event === event);
    assert.ok(i >= 0, 'nothing emitted as ' + event + ': ' + JSON.stringify(this.emitted.map((e) => e.event)));
    return this.emitted.splice(i, 1)[0];
  }
}

function settle() {
  return new Promise((resolve) => setImmediate(resolve));
}

function makeHub(t) {
  let socket = null;
  const errors = [];
  const hub = new Hub({
    io: (url, options) => (socket = new FakeSocket(url, options)),
    url: 'http://127.0.0.1:5000/wall',
    transports: ['polling', 'websocket'],
    onError: (message) => errors.push(message),
  });
  t.after(() => hub.close());
  return { hub, socket, errors };
}

function client(hub) {
  const inbox = [];
  const c = hub.addClient((msg) => inbox.push(msg));
  return { c, inbox, last: () => inbox[inbox.length - 1] };
}

test('the hub connects at once, with its own reconnection off', (t) => {
  const { socket } = makeHub(t);
  assert.equal(socket.url, 'http://127.0.0.1:5000/wall');
  assert.deepEqual(socket.options.transports, ['polling', 'websocket']);
  assert.equal(socket.options.reconnection, false);
  assert.equal(socket.options.forceNew, true);
  assert.equal(socket.connects, 1);
});

test('a new client is told the state first, then every change', (t) => {
  const { hub, socket } = makeHub(t);
  const a = client(hub);
  assert.deepEqual(a.inbox, [{ type: 'state', state: 'connecting', transport: null, retryAt: null, session: 0 }]);
  socket.up('websocket');
  assert.deepEqual(a.last(), { type: 'state', state: 'live', transport: 'websocket', retryAt: null, session: 1 });
  const b = client(hub);
  assert.equal(b.inbox[0].state, 'live');
  assert.equal(b.inbox[0].session, 1);
});

test('every connect is a new session', (t) => {
  const { hub, socket } = makeHub(t);
  const a = client(hub);
  socket.up();
  socket.down('transport close');
  assert.equal(a.last().state, 'offline');
  hub.retry();
  assert.equal(a.last().state, 'connecting');
  socket.up();
  assert.equal(a.last().session, 2);
});

test('going offline schedules a jittered retry within the first backoff', (t) => {
  const { hub, socket } = makeHub(t);
  const a = client(hub);
  const before = Date.now();
  socket.fire('connect_error', new Error('refused'));
  const state = a.last();
  assert.equal(state.state, 'offline');
  // 0.5 s, with up to half of it as jitter
  assert.ok(state.retryAt >= before + 250 && state.retryAt <= Date.now() + 500, JSON.stringify(state));
  hub.retry(); // "Retry now"
  assert.equal(socket.connects, 2);
});

test('a disconnect we asked for is not retried', (t) => {
  const { hub, socket } = makeHub(t);
  const a = client(hub);
  socket.up();
  socket.down('io client disconnect');
  assert.equal(a.last().state, 'live');
});

test('join: asks the server with after, and hands the ack back', async (t) => {
  const { hub, socket } = makeHub(t);
  const a = client(hub);
  socket.up();
  hub.receive(a.c, { type: 'join', id: 7, wall: 'news', after: '5-0' });
  await settle();
  const join = socket.take('join');
  assert.deepEqual(join.data, { wall: 'news', after: '5-0' });
  assert.equal(join.timeout, 10000);
  join.ack(null, { ok: true, posts: [] });
  await settle();
  assert.deepEqual(a.last(), { type: 'reply', id: 7, result: { ok: true, posts: [] } });
});

test('join while offline is answered at once with offline', async (t) => {
  const { hub, socket } = makeHub(t);
  const a = client(hub);
  hub.receive(a.c, { type: 'join', id: 1, wall: 'news' });
  await settle();
  assert.deepEqual(a.last(), { type: 'reply', id: 1, error: 'offline' });
  assert.equal(socket.emitted.length, 0);
});

test('an ack that fails is a timeout while connected, offline after a drop', async (t) => {
  const { hub, socket } = makeHub(t);
  const a = client(hub);
  socket.up();
  hub.receive(a.c, { type: 'join', id: 1, wall: 'one' });
  hub.receive(a.c, { type: 'join', id: 2, wall: 'two' });
  await settle();
  socket.take('join').ack(new Error('operation has timed out'));
  await settle();
  assert.deepEqual(a.inbox.find((m) => m.id === 1), { type: 'reply', id: 1, error: 'timeout' });
  socket.connected = false;
  socket.take('join').ack(new Error('socket has been disconnected'));
  await settle();
  assert.deepEqual(a.inbox.find((m) => m.id === 2), { type: 'reply', id: 2, error: 'offline' });
});

test('server events go to the clients of their wall; ones without a wall to all', async (t) => {
  const { hub, socket } = makeHub(t);
  const a = client(hub);
  const b = client(hub);
  socket.up();
  hub.receive(a.c, { type: 'join', id: 1, wall: 'news' });
  hub.receive(b.c, { type: 'join', id: 1, wall: 'sport' });
  socket.server('new post', { wall: 'news', id: '9-0' });
  assert.deepEqual(a.last(), { type: 'event', event: 'new post', data: { wall: 'news', id: '9-0' } });
  assert.equal(b.inbox.some((m) => m.type === 'event'), false);
  socket.server('announcement', { text: 'hi' });
  assert.equal(a.last().event, 'announcement');
  assert.equal(b.last().event, 'announcement');
  socket.server('new post', { wall: 'nobody' });
  assert.equal(a.last().event, 'announcement');
});

test('the hub leaves a wall when its last client does, after the join', async (t) => {
  const { hub, socket } = makeHub(t);
  const a = client(hub);
  const b = client(hub);
  socket.up();
  hub.receive(a.c, { type: 'join', id: 1, wall: 'news' });
  hub.receive(b.c, { type: 'join', id: 1, wall: 'news' });
  hub.receive(a.c, { type: 'leave', wall: 'news' });
  await settle();
  // The first join waits for its ack; nothing overtakes it.
  assert.deepEqual(socket.emitted.map((e) => e.event), ['join']);
  socket.take('join').ack(null, { ok: true });
  await settle();
  socket.take('join').ack(null, { ok: true });
  await settle();
  assert.equal(socket.emitted.length, 0, 'b still shows the wall');
  hub.removeClient(b.c); // its tab went away
  await settle();
  assert.deepEqual(socket.take('leave').data, { wall: 'news' });
});

test('relay: only the events tabs may send, with a bounded timeout', async (t) => {
  const { hub, socket } = makeHub(t);
  const a = client(hub);
  hub.receive(a.c, { type: 'emit', id: 1, event: 'add to wall', data: {}, timeout: 5000 });
  assert.deepEqual(a.last(), { type: 'reply', id: 1, error: 'offline' }); // never buffered
  socket.up();
  hub.receive(a.c, { type: 'emit', id: 2, event: 'delete everything', data: {} });
  assert.deepEqual(a.last(), { type: 'reply', id: 2, error: 'refused' });
  for (const [asked, used] of [[5000, 5000], [10, 1000], [1e9, 60000], [undefined, 10000]]) {
    hub.receive(a.c, { type: 'emit', id: 3, event: 'add to wall', data: { message: 'hi' }, timeout: asked });
    const sent = socket.take('add to wall');
    assert.equal(sent.timeout, used, String(asked));
    assert.deepEqual(sent.data, { message: 'hi' });
  }
  hub.receive(a.c, { type: 'emit', id: 4, event: 'add to wall', data: {}, timeout: 5000 });
  socket.take('add to wall').ack(null, { ok: true, post: { id: '1-0' } });
  await settle();
  assert.deepEqual(a.last(), { type: 'reply', id: 4, result: { ok: true, post: { id: '1-0' } } });
});

test('messages from unknown clients or of unknown types are ignored', (t) => {
  const { hub, socket } = makeHub(t);
  const a = client(hub);
  socket.up();
  const count = a.inbox.length;
  hub.receive(a.c, null);
  hub.receive(a.c, { type: 'nonsense' });
  hub.receive({ send() {}, walls: new Set() }, { type: 'join', id: 1, wall: 'x' });
  assert.equal(a.inbox.length, count);
  assert.equal(socket.emitted.length, 0);
});

test('close disconnects for good', (t) => {
  const { hub, socket } = makeHub(t);
  socket.up();
  hub.close();
  assert.equal(socket.disconnects, 1);
  socket.fire('connect_error', new Error('x'));
  hub.retry();
  assert.equal(socket.connects, 1);
});

test('worker names: the transport and the static version', () => {
  const url = new URL('http://h/static/v/0123456789ab/js/wall-worker.js?transport=polling&namespace=%2Fwall');
  assert.equal(workerName(url, 'polling'), 'wall polling 0123456789ab');
  assert.equal(workerName(url, 'websocket'), 'wall websocket 0123456789ab');
  const next = new URL('http://h/static/v/ba9876543210/js/wall-worker.js?transport=polling');
  assert.notEqual(workerName(next, 'polling'), workerName(url, 'polling'));
  // Served without a version: a hash of the whole URL instead.
  const plain = new URL('http://h/static/js/wall-worker.js?transport=polling');
  assert.match(workerName(plain, 'polling'), /^wall polling [0-9a-f]{8}$/);
  assert.notEqual(workerName(plain, 'polling'), workerName(new URL(plain.href + '&x=1'), 'polling'));
});

test('organisers: a join carries the key, and a watcher tab re-joins with it too', async (t) => {
  const { hub, socket } = makeHub(t);
  const panel = client(hub);
  const page = client(hub);
  socket.up();
  hub.receive(panel.c, { type: 'join', id: 1, wall: 'ev', key: 'wk_secret' });
  await settle();
  const first = socket.take('join');
  assert.deepEqual(first.data, { wall: 'ev', key: 'wk_secret' });
  first.ack(null, { ok: true, posts: [] });
  await settle();
  // The wall tab of the same browser joins without a key: the one socket
  // must stay the organiser's, so the hub lends it the panel's key.
  hub.receive(page.c, { type: 'join', id: 2, wall: 'ev', after: '3-0' });
  await settle();
  const second = socket.take('join');
  assert.deepEqual(second.data, { wall: 'ev', after: '3-0', key: 'wk_secret' });
  second.ack(null, { ok: true, posts: [] });
  await settle();
  assert.deepEqual(page.last(), { type: 'reply', id: 2, result: { ok: true, posts: [] } });

  // post pending: only to the client that holds the key; others to both.
  socket.server('post pending', { wall: 'ev', post: { id: '9-0' } });
  assert.equal(panel.last().event, 'post pending');
  assert.equal(page.inbox.some((m) => m.event === 'post pending'), false);
  socket.server('post updated', { wall: 'ev', post: { id: '9-0' } });
  assert.equal(panel.last().event, 'post updated');
  assert.equal(page.last().event, 'post updated');

  // The panel goes: later joins are plain again.
  hub.receive(panel.c, { type: 'leave', wall: 'ev' });
  hub.receive(page.c, { type: 'join', id: 3, wall: 'ev' });
  await settle();
  assert.deepEqual(socket.take('join').data, { wall: 'ev' });
});

test('organisers: a borrowed key the server refuses is dropped, the join goes again', async (t) => {
  const { hub, socket } = makeHub(t);
  const panel = client(hub);
  const page = client(hub);
  socket.up();
  hub.receive(panel.c, { type: 'join', id: 1, wall: 'ev', key: 'wk_revoked' });
  hub.receive(page.c, { type: 'join', id: 2, wall: 'ev' });
  await settle();
  socket.take('join').ack(null, { ok: false, error: 'forbidden' });
  await settle();
  // The panel's own key: its refusal is the panel's to see.
  assert.deepEqual(panel.last(), { type: 'reply', id: 1, result: { ok: false, error: 'forbidden' } });
  await settle();
  const borrowed = socket.take('join');
  assert.deepEqual(borrowed.data, { wall: 'ev', key: 'wk_revoked' });
  borrowed.ack(null, { ok: false, error: 'forbidden' });
  await settle();
  const plain = socket.take('join');
  assert.deepEqual(plain.data, { wall: 'ev' });
  plain.ack(null, { ok: true, posts: [] });
  await settle();
  assert.deepEqual(page.last(), { type: 'reply', id: 2, result: { ok: true, posts: [] } });
  socket.server('post pending', { wall: 'ev', post: { id: '9-0' } });
  assert.equal(page.inbox.some((m) => m.event === 'post pending'), false);
});

test('relay: likes go through the hub like posts', async (t) => {
  const { hub, socket } = makeHub(t);
  const a = client(hub);
  socket.up();
  for (const event of ['like', 'unlike']) {
    hub.receive(a.c, { type: 'emit', id: 7, event: event, data: { wall: 'w', id: '1-0' }, timeout: 5000 });
    socket.take(event).ack(null, { ok: true, id: '1-0', likes: 1, liked: event === 'like' });
    await settle();
    assert.deepEqual(a.last().result, { ok: true, id: '1-0', likes: 1, liked: event === 'like' });
  }
});

test('reconnect: a new session now, even when live, and every client re-joins', (t) => {
  const { hub, socket } = makeHub(t);
  const a = client(hub);
  socket.up();
  assert.equal(a.last().session, 1);
  hub.receive(a.c, { type: 'reconnect' });
  assert.equal(socket.disconnects, 1);
  assert.equal(socket.connects, 2);
  assert.equal(a.last().state, 'connecting');
  socket.up();
  assert.deepEqual([a.last().state, a.last().session], ['live', 2]);
  // Our own disconnect schedules no retry of its own.
  socket.fire('disconnect', 'io client disconnect');
  assert.equal(hub.retryTimer, null);
  // While connecting, it starts the attempt again rather than wait.
  hub.receive(a.c, { type: 'reconnect' });
  hub.receive(a.c, { type: 'reconnect' });
  assert.equal(socket.connects, 4);
  hub.close();
  hub.receive(a.c, { type: 'reconnect' });
  assert.equal(socket.connects, 4);
});
