// Reference server for the wall benchmark: the wall's Socket.IO contract
// (docs/protocol.md, namespace /wall: join, leave, add to wall, new post,
// online) on Node.js Socket.IO 4 with @socket.io/redis-adapter, with posts in
// the same Redis Streams (wall:posts:<wall>) as the wall.
//
// It is what a Node developer would write for the same job: posts are XADDed
// and then broadcast through the Redis adapter (pub/sub, at most once). It has
// no HTTP API, no rate limits, no idempotency and no gap-free re-join; the
// benchmark does not use them.
//
//   PORT=5100 REDIS_URL=redis://127.0.0.1:6390/0 node server.js
'use strict';

const http = require('http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');

const PORT = parseInt(process.env.PORT || '5100', 10);
const HOST = process.env.HOST || '127.0.0.1';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379/0';
const HISTORY = parseInt(process.env.WALL_HISTORY || '10000', 10);
const JOIN_POSTS = 50;
const POSTS = 'wall:posts:';
const ONLINE = 'wallnode:online:';

const WALL_RE = /^[a-z0-9-]{1,40}$/;
const CLIENT_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

function fail(error, message) {
  return { ok: false, error, message };
}

function text(value, name, max) {
  if (typeof value !== 'string') throw fail('invalid', `${name} must be a string.`);
  let s = value.normalize('NFC').replace(/\r\n?/g, '\n').trim();
  const n = [...s].length;
  if (n < 1 || n > max) throw fail('invalid', `${name} must be 1 to ${max} characters.`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(s)) {
    throw fail('invalid', `${name} contains control characters.`);
  }
  return s;
}

function wallName(value) {
  if (typeof value !== 'string') throw fail('invalid', 'wall must be a string.');
  const wall = value.trim().toLowerCase();
  if (!WALL_RE.test(wall)) throw fail('invalid', 'Not a valid wall name.');
  return wall;
}

function payload(data) {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw fail('invalid', 'The payload must be a JSON object.');
  }
  return data;
}

function toPost(wall, id, fields) {
  return {
    id,
    wall,
    username: fields.u || '',
    message: fields.m || '',
    ts: parseInt(id.split('-')[0], 10),
    client_id: fields.c || null,
  };
}

async function main() {
  const cmd = createClient({ url: REDIS_URL });
  const pub = cmd.duplicate();
  const sub = cmd.duplicate();
  for (const c of [cmd, pub, sub]) c.on('error', (err) => console.error('redis:', err.message));
  await Promise.all([cmd.connect(), pub.connect(), sub.connect()]);

  const httpServer = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      cmd.ping().then(
        () => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end('{"status":"ok"}');
        },
        (err) => {
          res.writeHead(503, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ status: 'unavailable', reason: String(err) }));
        },
      );
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end('{"error":"not_found","message":"No such route."}');
  });

  const io = new Server(httpServer, {
    adapter: createAdapter(pub, sub),
    maxHttpBufferSize: 64 * 1024,
    serveClient: false,
  });
  const nsp = io.of('/wall');

  // online: one counter per wall in Redis (every process adds its sockets),
  // announced when it changed, at most once a second per wall.
  const dirty = new Set();
  const announced = new Map();
  setInterval(async () => {
    const walls = [...dirty];
    dirty.clear();
    for (const wall of walls) {
      try {
        const count = parseInt((await cmd.get(ONLINE + wall)) || '0', 10);
        if (announced.get(wall) !== count) {
          announced.set(wall, count);
          nsp.to(wall).emit('online', { wall, count });
        }
      } catch (err) {
        dirty.add(wall);
      }
    }
  }, 1000).unref();

  const handlers = {
    async join(socket, data) {
      data = payload(data);
      const wall = wallName(data.wall);
      const entries = await cmd.xRevRange(POSTS + wall, '+', '-', { COUNT: JOIN_POSTS + 1 });
      const more = entries.length > JOIN_POSTS;
      const posts = entries
        .slice(0, JOIN_POSTS)
        .filter((e) => !('d' in e.message))
        .reverse()
        .map((e) => toPost(wall, e.id, e.message));
      let online;
      if (!socket.data.walls.has(wall)) {
        socket.data.walls.add(wall);
        online = await cmd.incr(ONLINE + wall);
        dirty.add(wall);
      } else {
        online = parseInt((await cmd.get(ONLINE + wall)) || '0', 10);
      }
      // join and ack in the same tick: no live post reaches the socket before its ack
      socket.join(wall);
      return { ok: true, wall, posts, online, more };
    },

    async leave(socket, data) {
      data = payload(data);
      const wall = wallName(data.wall);
      if (socket.data.walls.delete(wall)) {
        socket.leave(wall);
        await cmd.decr(ONLINE + wall);
        dirty.add(wall);
      }
      return { ok: true, wall };
    },

    async 'add to wall'(socket, data) {
      data = payload(data);
      const wall = wallName(data.wall);
      const username = text(data.username, 'username', 32);
      const message = text(data.message, 'message', 1000);
      let clientId = null;
      if (data.client_id !== undefined && data.client_id !== null) {
        if (typeof data.client_id !== 'string' || !CLIENT_ID_RE.test(data.client_id)) {
          throw fail('invalid', 'client_id is not valid.');
        }
        clientId = data.client_id;
      }
      const fields = { u: username, m: message };
      if (clientId) fields.c = clientId;
      const id = await cmd.xAdd(POSTS + wall, '*', fields, {
        TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: HISTORY },
      });
      const post = toPost(wall, id, fields);
      nsp.to(wall).emit('new post', post);
      return { ok: true, post };
    },
  };

  nsp.on('connection', (socket) => {
    socket.data.walls = new Set();
    socket.onAny((event, ...args) => {
      const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
      const handler = handlers[event];
      if (!handler) {
        if (ack) {
          ack(fail('unknown_event', `The wall does not know the event ${JSON.stringify(event)}.`));
        }
        return;
      }
      handler(socket, args[0]).then(
        (reply) => ack && ack(reply),
        (err) => {
          if (err && err.ok === false) {
            if (ack) ack(err);
          } else if (err && err.name && /Redis|Socket|Connection/.test(err.name + err.message)) {
            if (ack) ack(fail('unavailable', 'Redis is unavailable; try again.'));
          } else {
            console.error(event, err);
            if (ack) ack(fail('internal', 'The server failed to handle this.'));
          }
        },
      );
    });
    socket.on('disconnect', () => {
      for (const wall of socket.data.walls) {
        cmd.decr(ONLINE + wall).catch(() => {});
        dirty.add(wall);
      }
      socket.data.walls.clear();
    });
  });

  httpServer.listen(PORT, HOST, () => {
    console.log(`node peer listening on http://${HOST}:${PORT} (Redis ${REDIS_URL})`);
  });

  const stop = () => {
    io.close();
    Promise.allSettled([cmd.quit(), pub.quit(), sub.quit()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
