/*
 * The hub: one Socket.IO connection to the /wall namespace, shared by tabs.
 *
 * It runs inside the SharedWorker (wall-worker.js), serving every tab of the
 * browser, or inside the page itself when there is no SharedWorker
 * (connection.js), serving that one tab. Either way the tabs are "clients"
 * that talk to it with plain messages:
 *
 *   client -> hub
 *     {type: 'join', id, wall, after?, key?}  join a wall (again), as its
 *                                       organiser with `key`; replied with the ack
 *     {type: 'leave', wall}             the client stops showing that wall
 *     {type: 'emit', id, event, data, timeout}  a relayed event ('add to wall',
 *                                       'like', 'unlike')
 *     {type: 'retry'}                   reconnect now instead of waiting
 *     {type: 'reconnect'}               open a new session now, even if live
 *   hub -> client
 *     {type: 'state', state, transport, retryAt, session}
 *         state: 'connecting' | 'live' | 'offline'; retryAt: epoch ms of the
 *         next attempt when offline; session: bumped on every connect, so a
 *         client knows it must re-join.
 *     {type: 'event', event, data}      a server event for one of its walls
 *     {type: 'reply', id, result}       the server's ack
 *     {type: 'reply', id, error}        'offline' | 'timeout' | 'refused'
 *
 * The hub joins the union of the walls its clients show and leaves a wall
 * when no client shows it any more. Joins are driven by the clients (each
 * knows the newest post it holds, for `after`), so after a reconnect every
 * client re-joins with its own `after`. A re-join by a socket already on
 * the wall is harmless: the server answers with the posts and no live post
 * is lost, because the socket never left the room.
 *
 * Organisers: the server makes the socket an organiser of a wall when it
 * joins with the wall's key, and an ordinary watcher again when it re-joins
 * without. One socket serves every tab, so the hub keeps each client's key
 * and joins with one whenever any client of that wall holds one (a wall
 * tab's re-join must not demote the panel's socket). `post pending` goes
 * only to the clients that joined with a key; a borrowed key the server
 * refuses is dropped and the join sent again without it.
 *
 * Socket.IO's own reconnection is off: the hub retries itself with a short
 * jittered backoff, so that it knows (and can tell the tabs) when the next
 * attempt is due.
 *
 * The server reads a socket's cookies once, at its handshake. A tab that
 * has just unlocked a private wall (a new grant cookie) asks for
 * 'reconnect': the hub drops the session and opens a new one, which
 * carries the cookie; every client re-joins on the new session as after
 * any reconnect.
 *
 * The socket.io client comes in as `options.io`, so that importing this
 * module costs nothing: the page loads socket.io only when it runs a hub.
 */

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 5000;
const CONNECT_TIMEOUT_MS = 10000;
const JOIN_TIMEOUT_MS = 10000;
const LEAVE_TIMEOUT_MS = 10000;
// Client events a tab may send through the hub besides join and leave.
const RELAYED = new Set(['add to wall', 'like', 'unlike']);
// Server events only organisers' clients receive (they joined with a key).
const ORGANIZER_ONLY = new Set(['post pending']);
const TRANSPORT_NAMES = { websocket: 'websocket', polling: 'polling', webtransport: 'webtransport' };

export class Hub {
  /**
   * @param {object} options
   *   io: the socket.io-client `io` function
   *   url: absolute URL of the namespace, e.g. "http://host/wall"
   *   transports: e.g. ['polling', 'websocket'] or ['polling']
   *   onError(message): where to report a failure of the hub itself
   */
  constructor(options) {
    this.onError = options.onError || function () {};
    this.clients = new Set();
    this.watchers = new Map(); // wall -> Set of clients showing it
    this.joined = new Set(); // walls this connection has joined
    this.queues = new Map(); // wall -> promise: joins and leaves in order
    this.state = { state: 'connecting', transport: null, retryAt: null, session: 0 };
    this.failures = 0;
    this.retryTimer = null;
    this.closed = false;
    this.onOnline = this.retry.bind(this);

    const socket = options.io(options.url, {
      transports: options.transports,
      reconnection: false,
      autoConnect: false,
      forceNew: true,
      timeout: CONNECT_TIMEOUT_MS,
    });
    this.socket = socket;

    // Connected (the first time or again): every client must re-join.
    socket.on('connect', () => {
      this.failures = 0;
      this.joined.clear();
      this.setState({
        state: 'live',
        transport: this.transportName(),
        retryAt: null,
        session: this.state.session + 1,
      });
    });

    // The connection attempt failed (server down, refused, timed out).
    socket.on('connect_error', () => {
      this.scheduleRetry();
    });

    // Lost the connection; unless we closed it ourselves, try again soon.
    socket.on('disconnect', (reason) => {
      this.joined.clear();
      if (this.closed || reason === 'io client disconnect') return;
      this.scheduleRetry();
    });

    // Every server event (new post, online, resync, post deleted...) goes
    // to the clients of the wall it names; one without a wall to all.
    socket.onAny((event, data) => {
      this.route(event, data);
    });

    // A new engine per connection: tell the clients when it upgrades from
    // long-polling to WebSocket, so the header stays true.
    socket.io.on('open', () => {
      const engine = socket.io.engine;
      engine.on('upgrade', () => {
        if (socket.connected) this.setState({ transport: this.transportName() });
      });
    });

    // The network came back: retry at once. (globalThis: a page or a worker.)
    if (typeof globalThis.addEventListener === 'function') {
      globalThis.addEventListener('online', this.onOnline);
    }
    this.connectNow();
  }

  // ------------------------------------------------------------ clients

  /** Register a client; `send(message)` delivers a message to it. */
  addClient(send) {
    const client = { send: send, walls: new Set(), keys: new Map() };
    this.clients.add(client);
    client.send(Object.assign({ type: 'state' }, this.state));
    return client;
  }

  /** Forget a client (its tab went away) and leave walls nobody shows. */
  removeClient(client) {
    if (!this.clients.delete(client)) return;
    for (const wall of Array.from(client.walls)) this.unwatch(client, wall);
  }

  get size() {
    return this.clients.size;
  }

  /** Handle one message from a client. */
  receive(client, msg) {
    if (!msg || typeof msg !== 'object' || !this.clients.has(client)) return;
    switch (msg.type) {
      case 'join':
        this.join(client, msg);
        break;
      case 'leave':
        this.unwatch(client, String(msg.wall));
        break;
      case 'emit':
        this.relay(client, msg);
        break;
      case 'retry':
        this.retry();
        break;
      case 'reconnect':
        this.reconnect();
        break;
      default:
        break;
    }
  }

  join(client, msg) {
    const wall = String(msg.wall);
    if (typeof msg.key === 'string' && msg.key) {
      client.keys.set(wall, msg.key);
    } else {
      client.keys.delete(wall);
    }
    // Watching starts now, before the ack: if this socket is already on
    // the wall, live posts flow to the client at once and overlap the
    // ack at worst (the client merges by id), so none is missed.
    client.walls.add(wall);
    if (!this.watchers.has(wall)) this.watchers.set(wall, new Set());
    this.watchers.get(wall).add(client);

    const payload = { wall: wall };
    if (msg.after) payload.after = msg.after;
    this.inOrder(wall, () => {
      if (!this.socket.connected) {
        client.send({ type: 'reply', id: msg.id, error: 'offline' });
        return null;
      }
      // Decided in turn, not before: a key may have come or gone meanwhile.
      const key = this.keyFor(client, wall);
      if (key) payload.key = key;
      return this.ack('join', payload, JOIN_TIMEOUT_MS).then((result) => {
        const borrowed = key && !client.keys.has(wall);
        if (borrowed && result && result.ok === false && result.error === 'forbidden') {
          // Another client's key, refused: drop it, join as a watcher.
          for (const other of this.clients) {
            if (other.keys.get(wall) === key) other.keys.delete(wall);
          }
          delete payload.key;
          return this.ack('join', payload, JOIN_TIMEOUT_MS);
        }
        return result;
      }).then(
        (result) => {
          if (result && result.ok) this.joined.add(wall);
          client.send({ type: 'reply', id: msg.id, result: result });
        },
        (err) => {
          client.send({ type: 'reply', id: msg.id, error: err.message });
        },
      );
    });
  }

  // The key to join `wall` with: the client's own, else any other client's
  // of that wall (null: none).
  keyFor(client, wall) {
    if (client.keys.has(wall)) return client.keys.get(wall);
    for (const other of this.watchers.get(wall) || []) {
      if (other.keys.has(wall)) return other.keys.get(wall);
    }
    return null;
  }

  unwatch(client, wall) {
    client.walls.delete(wall);
    client.keys.delete(wall);
    const clients = this.watchers.get(wall);
    if (!clients) return;
    clients.delete(client);
    if (clients.size) return;
    this.watchers.delete(wall);
    this.inOrder(wall, () => {
      // Someone may have come back to the wall while we waited our turn.
      if (this.watchers.has(wall) || !this.joined.has(wall)) return null;
      this.joined.delete(wall);
      if (!this.socket.connected) return null;
      return this.ack('leave', { wall: wall }, LEAVE_TIMEOUT_MS).catch(function () {});
    });
  }

  relay(client, msg) {
    const reply = function (extra) {
      client.send(Object.assign({ type: 'reply', id: msg.id }, extra));
    };
    if (!RELAYED.has(msg.event)) {
      reply({ error: 'refused' });
    } else if (!this.socket.connected) {
      // Never let socket.io buffer it for later: the tab decides when to
      // send again (with the same client_id).
      reply({ error: 'offline' });
    } else {
      const timeout = Math.min(Math.max(Number(msg.timeout) || 10000, 1000), 60000);
      this.ack(msg.event, msg.data, timeout).then(
        (result) => reply({ result: result }),
        (err) => reply({ error: err.message }),
      );
    }
  }

  route(event, data) {
    const wall = data && typeof data === 'object' && typeof data.wall === 'string' ? data.wall : null;
    const targets = wall === null ? this.clients : this.watchers.get(wall);
    if (!targets) return;
    const organizersOnly = ORGANIZER_ONLY.has(event);
    for (const client of Array.from(targets)) {
      if (organizersOnly && !client.keys.has(wall)) continue;
      client.send({ type: 'event', event: event, data: data });
    }
  }

  // ---------------------------------------------------------- plumbing

  // Run joins and leaves of one wall one after another: the server may
  // handle two events of one socket concurrently, and a leave overtaking
  // a join would leave the socket off a wall a tab shows.
  inOrder(wall, task) {
    const previous = this.queues.get(wall) || Promise.resolve();
    const next = previous.then(task).catch((err) => {
      this.onError('wall hub: ' + (err && err.stack ? err.stack : err));
    });
    this.queues.set(wall, next);
    next.then(() => {
      if (this.queues.get(wall) === next) this.queues.delete(wall);
    });
  }

  // Emit with an ack; rejects with Error('timeout') or Error('offline').
  ack(event, data, timeout) {
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeout).emit(event, data, (err, result) => {
        if (!err) {
          resolve(result);
        } else {
          // socket.io fails pending acks at once when the connection drops.
          reject(new Error(this.socket.connected ? 'timeout' : 'offline'));
        }
      });
    });
  }

  transportName() {
    const engine = this.socket.io.engine;
    const name = engine && engine.transport ? engine.transport.name : null;
    return TRANSPORT_NAMES[name] || name;
  }

  setState(patch) {
    this.state = Object.assign({}, this.state, patch);
    const msg = Object.assign({ type: 'state' }, this.state);
    for (const client of Array.from(this.clients)) client.send(msg);
  }

  connectNow() {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.setState({ state: 'connecting', transport: null, retryAt: null });
    this.socket.connect();
  }

  scheduleRetry() {
    if (this.closed || this.retryTimer !== null) return;
    // 0.5, 1, 2, 4, 5, 5... seconds, each with up to half of it as jitter
    // so that a restarted server isn't hit by every browser at once.
    const ceiling = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * Math.pow(2, this.failures));
    const delay = Math.round(ceiling * (0.5 + Math.random() / 2));
    this.failures += 1;
    this.setState({ state: 'offline', transport: null, retryAt: Date.now() + delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connectNow();
    }, delay);
  }

  /** Reconnect now if offline (a tab's "Retry now", or the network came back). */
  retry() {
    if (!this.closed && this.state.state === 'offline') this.connectNow();
  }

  /** Drop the session (if any) and open a new one now: its handshake
   * carries the cookies the browser has now. */
  reconnect() {
    if (this.closed) return;
    // Our own disconnect, so the 'disconnect' handler schedules no retry;
    // while still connecting it cancels an attempt that may have started
    // before the cookie was set.
    this.socket.disconnect();
    this.connectNow();
  }

  /** Close the connection for good. */
  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (typeof globalThis.removeEventListener === 'function') {
      globalThis.removeEventListener('online', this.onOnline);
    }
    this.socket.disconnect();
  }
}
