// One load generator process of the wall benchmark.
//
// Driven by bench/run.py: one JSON command per line on stdin, one JSON reply
// per line on stdout ({"id": <command id>, ...}). Every connection is a
// WebSocket in namespace /wall:
// - subscribers (the many) speak Engine.IO 4 / Socket.IO 5 directly over `ws`
//   by default (client "raw"): connect, join with ack, answer pings, parse
//   `new post`. It is the same wire traffic as socket.io-client's, and the
//   same permessage-deflate offer, at a fraction of its CPU, so that the
//   generator is not what limits the fan-out. `client: "socketio"` uses
//   socket.io-client instead (to check that both agree).
// - posters (a few) are socket.io-client.
//
// Times are CLOCK_MONOTONIC microseconds (process.hrtime), the same clock in
// every process of the machine, so a post carries its send time in its text
// and a subscriber in another process computes post -> delivery latency:
//   message = "<step>:<index>:<sent us> " + padding
'use strict';

const readline = require('readline');
const { io } = require('socket.io-client');
const WebSocket = require('ws');

const DEFLATE = process.env.BENCH_CLIENT_DEFLATE !== '0';
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

// -- latency histogram: log buckets, 2% wide --------------------------------
const LOG_BASE = Math.log(1.02);
class Hist {
  constructor() {
    this.counts = new Map();
    this.n = 0;
    this.sum = 0;
    this.max = 0;
  }
  add(us) {
    const v = us < 1 ? 1 : us;
    const b = Math.ceil(Math.log(v) / LOG_BASE);
    this.counts.set(b, (this.counts.get(b) || 0) + 1);
    this.n += 1;
    this.sum += v;
    if (v > this.max) this.max = v;
  }
  toJSON() {
    return { base: 1.02, unit: 'us', n: this.n, sum: this.sum, max: this.max, buckets: Object.fromEntries(this.counts) };
  }
}

// -- state --------------------------------------------------------------------
const subscribers = []; // {socket, steps: Map(step -> {bits, unique}), last: [ms, seq]}
const posters = new Map(); // url -> [socket]
const steps = new Map(); // step -> {hist, received, dups, order}
let connectErrors = new Map(); // message -> count (since the last connect command)
const dropped = new Map(); // why -> subscribers that lost their connection
const drop = (why) => dropped.set(why, (dropped.get(why) || 0) + 1);

function stepStats(step) {
  let s = steps.get(step);
  if (!s) {
    s = { hist: new Hist(), received: 0, dups: 0, order: 0, firstUs: 0, lastUs: 0 };
    steps.set(step, s);
  }
  return s;
}

function parseId(id) {
  const dash = id.indexOf('-');
  return [parseInt(id.slice(0, dash), 10), parseInt(id.slice(dash + 1), 10)];
}

function onPost(sub, post, fromAck) {
  const now = nowUs();
  const m = post.message;
  const a = m.indexOf(':');
  const b = m.indexOf(':', a + 1);
  const c = m.indexOf(' ', b + 1);
  if (a < 0 || b < 0 || c < 0) return; // not a benchmark post
  const step = parseInt(m.slice(0, a), 10);
  const index = parseInt(m.slice(a + 1, b), 10);
  const sent = parseInt(m.slice(b + 1, c), 10);
  const st = stepStats(step);
  st.received += 1;
  if (!st.firstUs) st.firstUs = now;
  st.lastUs = now;
  // id order (docs/protocol.md: once each, in id order)
  const id = parseId(post.id);
  if (sub.last && (id[0] < sub.last[0] || (id[0] === sub.last[0] && id[1] <= sub.last[1]))) {
    st.order += 1;
  }
  sub.last = id;
  sub.lastId = post.id;
  let mine = sub.steps.get(step);
  if (!mine) {
    mine = { bits: new Uint8Array(Math.max(64, index + 1)), unique: 0 };
    sub.steps.set(step, mine);
  }
  if (index >= mine.bits.length) {
    const grown = new Uint8Array(Math.max(index + 1, mine.bits.length * 2));
    grown.set(mine.bits);
    mine.bits = grown;
  }
  if (mine.bits[index]) {
    st.dups += 1;
    return;
  }
  mine.bits[index] = 1;
  mine.unique += 1;
  if (!fromAck) st.hist.add(now - sent);
}

function newSocket(url) {
  return io(url.replace(/\/$/, '') + '/wall', {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: 20000,
    perMessageDeflate: DEFLATE ? { threshold: 1024 } : false,
  });
}

function connectOne(url, opts) {
  return new Promise((resolve) => {
    const socket = newSocket(url);
    let done = false;
    const finish = (ok, why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!ok) {
        connectErrors.set(why, (connectErrors.get(why) || 0) + 1);
        socket.disconnect();
      }
      resolve(ok ? socket : null);
    };
    const timer = setTimeout(() => finish(false, 'timeout'), opts.timeout_ms || 20000);
    socket.once('connect_error', (err) => finish(false, 'connect_error: ' + (err && err.message) + (err && err.description ? ' (' + String(err.description.message || err.description) + ')' : '')));
    socket.once('connect', () => {
      if (!opts.wall) return finish(true);
      socket.timeout(opts.timeout_ms || 20000).emit('join', { wall: opts.wall }, (err, ack) => {
        if (err) return finish(false, 'join timeout');
        if (!ack || !ack.ok) return finish(false, 'join refused: ' + JSON.stringify(ack).slice(0, 100));
        finish(true);
      });
    });
  });
}

// A subscriber over a bare WebSocket: Engine.IO open (0), namespace connect
// (40/wall,), join with ack id 1 (42/wall,1[...] -> 43/wall,1[...]), pings (2)
// answered with pongs (3), events 42/wall,["new post",{...}].
function rawConnect(url, opts, sub) {
  return new Promise((resolve) => {
    const wsUrl = url.replace(/^http/, 'ws').replace(/\/$/, '') + '/socket.io/?EIO=4&transport=websocket';
    const ws = new WebSocket(wsUrl, { perMessageDeflate: DEFLATE ? { threshold: 1024 } : false });
    sub.ws = ws;
    let done = false;
    const finish = (ok, why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!ok) {
        connectErrors.set(why, (connectErrors.get(why) || 0) + 1);
        ws.terminate();
      }
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false, 'timeout'), opts.timeout_ms || 20000);
    ws.on('error', (err) => finish(false, 'connect_error: ' + (err && err.message)));
    ws.on('close', () => {
      if (!done) finish(false, 'closed before join');
      else if (sub.ws === ws && sub.joined && !sub.closing) drop('closed');
    });
    ws.on('message', (raw) => {
      const data = raw.toString();
      if (data.startsWith('42/wall,["new post",')) {
        onPost(sub, JSON.parse(data.slice(8))[1]);
      } else if (data.startsWith('42/wall,["online",')) {
        sub.online = (sub.online || 0) + 1;
      } else if (data === '2') {
        ws.send('3');
      } else if (data.startsWith('0')) {
        ws.send('40/wall,');
      } else if (data.startsWith('40/wall,')) {
        if (!opts.wall) {
          sub.joined = true;
          return finish(true);
        }
        const join = opts.after ? { wall: opts.wall, after: opts.after } : { wall: opts.wall };
        ws.send('42/wall,1' + JSON.stringify(['join', join]));
      } else if (data.startsWith('43/wall,1[')) {
        const ack = JSON.parse(data.slice(9))[0];
        if (ack && ack.ok) {
          sub.joined = true;
          if (opts.onAck) opts.onAck(ack);
          finish(true);
        }
        else finish(false, 'join refused: ' + JSON.stringify(ack).slice(0, 100));
      } else if (data.startsWith('44/wall,')) {
        finish(false, 'connect refused: ' + data.slice(8, 100));
      }
    });
    sub.socket = { disconnect: () => { sub.closing = true; ws.close(); } };
  });
}

// Opens n more connections (round-robin over urls), at most `concurrency`
// in flight; stops starting new ones after `max_failures` failures.
async function connect(cmd) {
  const t0 = nowUs();
  connectErrors = new Map();
  const urls = cmd.urls;
  let next = 0;
  let ok = 0;
  let failed = 0;
  const maxFailures = cmd.max_failures || Infinity;
  const role = cmd.role || 'subscriber';
  const runner = async () => {
    while (next < cmd.n && failed < maxFailures) {
      const k = next++;
      const url = urls[k % urls.length];
      if (role === 'subscriber' && (cmd.client || 'raw') === 'raw') {
        const sub = { socket: null, steps: new Map(), last: null, closing: false, joined: false };
        if (await rawConnect(url, { wall: cmd.wall, timeout_ms: cmd.timeout_ms }, sub)) {
          ok += 1;
          subscribers.push(sub);
        } else {
          failed += 1;
        }
        continue;
      }
      const socket = await connectOne(url, { wall: role === 'subscriber' ? cmd.wall : null, timeout_ms: cmd.timeout_ms });
      if (!socket) {
        failed += 1;
        continue;
      }
      ok += 1;
      if (role === 'subscriber') {
        const sub = { socket, steps: new Map(), last: null };
        socket.on('new post', (post) => onPost(sub, post));
        socket.on('disconnect', (reason) => {
          if (reason !== 'io client disconnect') drop(reason);
        });
        subscribers.push(sub);
      } else {
        if (!posters.has(url)) posters.set(url, []);
        posters.get(url).push(socket);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(cmd.concurrency || 50, cmd.n || 1) }, runner));
  return {
    ok,
    failed,
    not_tried: cmd.n - ok - failed,
    errors: Object.fromEntries(connectErrors),
    subscribers: subscribers.length,
    seconds: (nowUs() - t0) / 1e6,
  };
}

function postText(step, index, pad) {
  const head = `${step}:${index}:${nowUs()} `;
  return head + 'x'.repeat(Math.max(0, pad - head.length));
}

// Open loop: post k is due at t0 + k / rate, whatever the acks do.
function post(cmd) {
  return new Promise((resolve) => {
    const sockets = posters.get(cmd.url) || [];
    if (!sockets.length) return resolve({ error: 'no poster connections' });
    const total = Math.max(1, Math.round(cmd.rate * cmd.duration_s));
    const ackHist = new Hist();
    let sent = 0;
    let acked = 0;
    let errors = 0;
    let lagMaxUs = 0;
    const errorKinds = {};
    const t0 = nowUs();
    const interval = 1e6 / cmd.rate;
    let finished = false;
    const maybeDone = () => {
      if (!finished && sent === total && acked + errors === total) {
        finished = true;
        resolve({ sent, acked, errors, error_kinds: errorKinds, ack: ackHist, lag_max_ms: lagMaxUs / 1000, seconds: (nowUs() - t0) / 1e6, send_seconds: sendEnd / 1e6 });
      }
    };
    let sendEnd = 0;
    const tick = () => {
      const now = nowUs();
      while (sent < total && t0 + sent * interval <= now) {
        const due = t0 + sent * interval;
        if (now - due > lagMaxUs) lagMaxUs = now - due;
        const index = sent++;
        const socket = sockets[index % sockets.length];
        const sentAt = nowUs();
        socket.timeout(cmd.ack_timeout_ms || 30000).emit(
          'add to wall',
          { wall: cmd.wall, username: 'bench', message: postText(cmd.step, index, cmd.pad || 200) },
          (err, ack) => {
            if (err || !ack || !ack.ok) {
              errors += 1;
              const kind = err ? 'timeout' : (ack && ack.error) || 'bad ack';
              errorKinds[kind] = (errorKinds[kind] || 0) + 1;
            } else {
              acked += 1;
              ackHist.add(nowUs() - sentAt);
            }
            maybeDone();
          },
        );
      }
      if (sent < total) {
        setTimeout(tick, Math.max(0, (t0 + sent * interval - nowUs()) / 1000));
      } else {
        sendEnd = nowUs() - t0;
      }
    };
    tick();
  });
}

// Closed loop: each poster connection keeps one post in flight.
function ingest(cmd) {
  return new Promise((resolve) => {
    const sockets = posters.get(cmd.url) || [];
    if (!sockets.length) return resolve({ error: 'no poster connections' });
    const ackHist = new Hist();
    let acked = 0;
    let errors = 0;
    const errorKinds = {};
    let index = 0;
    let active = sockets.length;
    const t0 = nowUs();
    const end = t0 + cmd.duration_s * 1e6;
    let ackedInWindow = 0;
    const loop = (socket) => {
      if (nowUs() >= end) {
        active -= 1;
        if (!active) {
          resolve({ acked, acked_in_window: ackedInWindow, errors, error_kinds: errorKinds, ack: ackHist, seconds: (nowUs() - t0) / 1e6 });
        }
        return;
      }
      const sentAt = nowUs();
      socket.timeout(cmd.ack_timeout_ms || 30000).emit(
        'add to wall',
        { wall: cmd.wall, username: 'bench', message: postText(cmd.step, index++, cmd.pad || 200) },
        (err, ack) => {
          const now = nowUs();
          if (err || !ack || !ack.ok) {
            errors += 1;
            const kind = err ? 'timeout' : (ack && ack.error) || 'bad ack';
            errorKinds[kind] = (errorKinds[kind] || 0) + 1;
          } else {
            acked += 1;
            if (now <= end) ackedInWindow += 1;
            ackHist.add(now - sentAt);
          }
          loop(socket);
        },
      );
    };
    sockets.forEach(loop);
  });
}

function stats(step, expected) {
  const st = stepStats(step);
  let unique = 0;
  let lost = 0;
  let complete = 0;
  for (const sub of subscribers) {
    const mine = sub.steps.get(step);
    const u = mine ? mine.unique : 0;
    unique += u;
    if (expected !== undefined) {
      if (u >= expected) complete += 1;
      else lost += expected - u;
    }
  }
  return {
    sockets: subscribers.length,
    received: st.received,
    unique,
    dups: st.dups,
    order_violations: st.order,
    lost: expected === undefined ? null : lost,
    complete_sockets: complete,
    first_us: st.firstUs,
    last_us: st.lastUs,
    hist: st.hist,
    dropped: Object.fromEntries(dropped),
  };
}

// Waits until every subscriber holds `expected` unique posts of the step.
function drain(cmd) {
  return new Promise((resolve) => {
    const t0 = nowUs();
    const check = () => {
      const s = stats(cmd.step, cmd.expected);
      if (s.lost === 0 || nowUs() - t0 > cmd.timeout_ms * 1000) {
        s.drain_seconds = (nowUs() - t0) / 1e6;
        steps.delete(cmd.step);
        for (const sub of subscribers) sub.steps.delete(cmd.step);
        resolve(s);
      } else {
        setTimeout(check, 20);
      }
    };
    check();
  });
}

// A reconnect storm (issue 18): every raw subscriber drops its WebSocket at
// once and opens a new one after a random delay in [0, jitter_ms) (a page's
// reconnect backoff spreads its first retry like this), re-joining its wall
// with `after` = the newest post id it holds, as the page does. The posts of
// the re-join's ack count once, like live ones (a post it holds again is a
// duplicate); ack posts at or before `after` are counted apart (the Node peer
// has no `after` and answers the newest 50 again). Replies the time from the
// drop to each re-join's ack; `online` (below) tells the `online` events
// each client got since.
async function storm(cmd) {
  const subs = subscribers.slice();
  connectErrors = new Map();
  const joinHist = new Hist();
  let ok = 0;
  let failed = 0;
  let ackOld = 0;
  let lastJoinUs = 0;
  for (const sub of subs) {
    sub.online = 0;
    sub.closing = true;
    sub.ws.terminate();
  }
  const t0 = nowUs();
  await Promise.all(subs.map((sub, k) => new Promise((resolve) => {
    setTimeout(async () => {
      sub.closing = false;
      sub.joined = false;
      const after = sub.lastId || null;
      const onAck = (ack) => {
        for (const post of ack.posts || []) {
          if (after && compareIds(post.id, after) <= 0) ackOld += 1;
          else onPost(sub, post, true);
        }
      };
      const url = cmd.urls[k % cmd.urls.length];
      if (await rawConnect(url, { wall: cmd.wall, after, onAck, timeout_ms: cmd.timeout_ms }, sub)) {
        ok += 1;
        const now = nowUs();
        joinHist.add(now - t0);
        if (now > lastJoinUs) lastJoinUs = now;
      } else {
        failed += 1;
      }
      resolve();
    }, Math.random() * (cmd.jitter_ms || 0));
  })));
  return {
    clients: subs.length,
    ok,
    failed,
    errors: Object.fromEntries(connectErrors),
    all_joined_s: lastJoinUs ? (lastJoinUs - t0) / 1e6 : null,
    join: joinHist,
    ack_old: ackOld,
    seconds: (nowUs() - t0) / 1e6,
  };
}

function compareIds(a, b) {
  const x = parseId(a);
  const y = parseId(b);
  return x[0] - y[0] || x[1] - y[1];
}

// The `online` events each subscriber got since the last storm.
function onlineCounts() {
  let sum = 0;
  let max = 0;
  for (const sub of subscribers) {
    sum += sub.online || 0;
    if ((sub.online || 0) > max) max = sub.online || 0;
  }
  return { online_sum: sum, online_max: max, clients: subscribers.length };
}

async function close() {
  for (const sub of subscribers) sub.socket.disconnect();
  subscribers.length = 0;
  for (const list of posters.values()) list.forEach((s) => s.disconnect());
  posters.clear();
  steps.clear();
  return { closed: true };
}

const commands = {
  connect,
  post,
  ingest,
  drain,
  close,
  storm,
  online: onlineCounts,
  stats: (cmd) => stats(cmd.step, cmd.expected),
  ping: async () => ({ pong: true, pid: process.pid, deflate: DEFLATE }),
  exit: async () => {
    setTimeout(() => process.exit(0), 10);
    return { bye: true };
  },
};

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (err) {
    process.stdout.write(JSON.stringify({ id: null, error: 'bad json' }) + '\n');
    return;
  }
  const fn = commands[cmd.op];
  if (!fn) {
    process.stdout.write(JSON.stringify({ id: cmd.id, error: 'unknown op ' + cmd.op }) + '\n');
    return;
  }
  Promise.resolve(fn(cmd)).then(
    (result) => process.stdout.write(JSON.stringify({ id: cmd.id, ...result }) + '\n'),
    (err) => process.stdout.write(JSON.stringify({ id: cmd.id, error: String((err && err.stack) || err) }) + '\n'),
  );
});
rl.on('close', () => process.exit(0));
