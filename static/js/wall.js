/*
 * Live message wall client.
 *
 * Everything the page needs comes from data- attributes on #wall, because
 * the CSP (default-src 'self') forbids inline scripts. User-supplied text is
 * only ever written with textContent / createTextNode, never parsed as HTML.
 */
(function () {
  'use strict';

  const root = document.getElementById('wall');
  if (!root || typeof window.io !== 'function') {
    return;
  }

  // ---------------------------------------------------------------- config

  const WALL = root.dataset.wall || '';
  const NAMESPACE = root.dataset.namespace || '/wall';
  const MAX_MESSAGE = positiveInt(root.dataset.maxMessage);
  const MAX_USERNAME = positiveInt(root.dataset.maxUsername);

  const ACK_TIMEOUT_MS = 10000;
  const PAGE_LIMIT = 200;
  const FETCH_RETRIES = 5;
  const FETCH_RETRY_DELAY_MS = 3000;
  const SERVER_RETRY_MS = 5000;
  const RELATIVE_TIME_REFRESH_MS = 30000;
  const HIGHLIGHT_FALLBACK_MS = 2500;
  const USERNAME_KEY = 'wall.username';
  const NOT_SENT = 'Not sent; check your connection and try again';

  // Redis stream ids: "<ms>-<seq>", both non-negative integers.
  const ID_RE = /^(\d+)-(\d+)$/;

  const els = {
    online: document.getElementById('online'),
    status: document.getElementById('status'),
    form: document.getElementById('post-form'),
    username: document.getElementById('username'),
    message: document.getElementById('message'),
    counter: document.getElementById('counter'),
    error: document.getElementById('form-error'),
    feed: document.getElementById('feed'),
  };
  els.submit = els.form.querySelector('[type="submit"]');

  // ----------------------------------------------------------------- state

  // id -> post. The Map is the single source of truth for "already shown",
  // so a post arriving via the join ack, the REST catch-up, the live event
  // and our own post's ack is still rendered exactly once.
  const posts = new Map();

  // Newest id up to which we know we hold *every* post. Usually equal to the
  // newest id shown, but a live post can arrive while an older gap is still
  // being paged in; resuming from the newest id shown would then skip the
  // gap forever. So live posts only advance it while `synced` is true, i.e.
  // after the join and any catch-up paging have completed.
  let syncedId = null;
  let synced = false;

  // Bumped on every (re)connect and reset; async work from an older
  // connection compares against it and quietly gives up.
  let generation = 0;

  let sending = false;
  // Reused while the same text is re-sent, so if a "lost" ack was in fact
  // delivered, the server can recognise the retry as a duplicate.
  let draft = { text: null, clientId: null };

  // ----------------------------------------------------------- id ordering

  function parseId(id) {
    const m = typeof id === 'string' ? ID_RE.exec(id) : null;
    // BigInt because seq (and in theory ms) may exceed 2^53.
    return m ? [BigInt(m[1]), BigInt(m[2])] : null;
  }

  function compareIds(a, b) {
    const pa = parseId(a);
    const pb = parseId(b);
    if (pa[0] !== pb[0]) {
      return pa[0] < pb[0] ? -1 : 1;
    }
    if (pa[1] !== pb[1]) {
      return pa[1] < pb[1] ? -1 : 1;
    }
    return 0;
  }

  // Ignores anything that isn't a valid id, so bad server data can't poison
  // the resume position.
  function maxId(a, b) {
    if (!parseId(b)) return a;
    if (!parseId(a)) return b;
    return compareIds(a, b) >= 0 ? a : b;
  }

  function newestShownId() {
    const first = els.feed.firstElementChild;
    return first ? first.dataset.id : null;
  }

  // ----------------------------------------------------------- rendering

  function postDate(post) {
    let t = NaN;
    if (typeof post.ts === 'number' || (typeof post.ts === 'string' && /^\d+(\.\d+)?$/.test(post.ts))) {
      t = Number(post.ts);
      // Accept both Unix seconds and milliseconds from the server.
      if (t < 1e11) t *= 1000;
    } else if (typeof post.ts === 'string') {
      t = Date.parse(post.ts);
    }
    if (!Number.isFinite(t)) {
      // The stream id's first half is the server's ms timestamp anyway.
      t = Number(ID_RE.exec(post.id)[1]);
    }
    return new Date(t);
  }

  function relativeTime(date, now) {
    const seconds = Math.round((now - date.getTime()) / 1000);
    // Negative values are clock skew between us and the server.
    if (seconds < 60) return 'just now';
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + ' min ago';
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return hours + ' h ago';
    const opts = { month: 'short', day: 'numeric' };
    if (date.getFullYear() !== new Date(now).getFullYear()) {
      opts.year = 'numeric';
    }
    return date.toLocaleDateString(undefined, opts);
  }

  function renderPost(post) {
    const li = document.createElement('li');
    li.className = 'post';
    li.dataset.id = post.id;

    const header = document.createElement('header');
    header.className = 'post-header';

    const name = document.createElement('strong');
    name.className = 'username';
    name.dir = 'auto';
    name.textContent = String(post.username || '');

    const date = postDate(post);
    const time = document.createElement('time');
    time.className = 'post-time';
    time.dateTime = date.toISOString();
    time.title = date.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'medium' });
    time.textContent = relativeTime(date, Date.now());

    header.append(name, document.createTextNode(' '), time);

    const body = document.createElement('p');
    body.className = 'message';
    body.dir = 'auto';
    body.textContent = String(post.message || '');

    li.append(header, body);
    return li;
  }

  function highlight(li) {
    li.classList.add('arrived');
    const done = function () {
      li.classList.remove('arrived');
    };
    li.addEventListener('animationend', done, { once: true });
    // animationend never fires under prefers-reduced-motion or in a
    // background tab, so don't let the class linger.
    setTimeout(done, HIGHLIGHT_FALLBACK_MS);
  }

  function refreshTimes() {
    const now = Date.now();
    els.feed.querySelectorAll('time.post-time').forEach(function (time) {
      time.textContent = relativeTime(new Date(time.dateTime), now);
    });
  }

  // Add one post if it is new, keeping the feed sorted newest first.
  // Returns true if it was inserted.
  function merge(post, opts) {
    if (!post || typeof post !== 'object' || !parseId(post.id)) return false;
    if (post.wall !== undefined && post.wall !== WALL) return false;
    if (posts.has(post.id)) return false;

    posts.set(post.id, post);
    const li = renderPost(post);

    // Almost every post is the newest one, so check the top first and only
    // walk the list for out-of-order arrivals.
    let before = els.feed.firstElementChild;
    while (before && compareIds(before.dataset.id, post.id) > 0) {
      before = before.nextElementSibling;
    }
    els.feed.insertBefore(li, before);

    if (opts && opts.highlight) highlight(li);
    return true;
  }

  function mergeAll(list, opts) {
    if (!Array.isArray(list)) return;
    list.forEach(function (post) {
      merge(post, opts);
    });
  }

  function resetFeed() {
    posts.clear();
    els.feed.replaceChildren();
    syncedId = null;
    synced = false;
  }

  function setOnline(count) {
    if (Number.isFinite(count) && count >= 0) {
      els.online.textContent = String(count);
    }
  }

  // -------------------------------------------------------------- status

  function setStatus(kind, text) {
    els.status.textContent = text;
    els.status.classList.remove('status-live', 'status-offline', 'status-connecting');
    els.status.classList.add('status-' + kind);
  }

  function showLiveStatus() {
    if (!socket.connected) return;
    const engine = socket.io.engine;
    const name = engine && engine.transport ? engine.transport.name : '';
    const label = {
      websocket: 'WebSocket',
      polling: 'long-polling',
      webtransport: 'WebTransport',
    }[name] || name || 'unknown';
    setStatus('live', 'live (' + label + ')');
  }

  // ------------------------------------------------------------- syncing

  const params = new URLSearchParams(window.location.search);
  const transports = params.get('transport') === 'polling'
    ? ['polling']
    : ['polling', 'websocket'];

  const socket = window.io(NAMESPACE, { transports: transports });

  // The manager creates a new engine for every reconnection, so the upgrade
  // listener has to be attached per engine, once.
  const watchedEngines = new WeakSet();
  function watchEngine() {
    const engine = socket.io.engine;
    if (engine && !watchedEngines.has(engine)) {
      watchedEngines.add(engine);
      engine.on('upgrade', showLiveStatus);
    }
  }

  function join() {
    const gen = generation;
    const payload = { wall: WALL };
    const after = syncedId;
    if (after !== null) {
      payload.after = after;
    }

    socket.timeout(ACK_TIMEOUT_MS).emit('join', payload, function (err, res) {
      if (gen !== generation) return;
      if (err) {
        // No ack in time; retry as long as we are still connected (a
        // disconnect will trigger a fresh join on reconnect anyway).
        if (socket.connected) join();
        return;
      }
      if (!res || !res.ok) {
        setStatus('offline', (res && res.message) || 'Could not join this wall');
        return;
      }
      if (res.truncated && after !== null) {
        // We were away so long the stream was trimmed past our position:
        // there is an unrecoverable gap, so start from a clean slate.
        generation += 1;
        resetFeed();
        join();
        return;
      }

      setOnline(res.online);
      const list = Array.isArray(res.posts) ? res.posts : [];
      // Only posts missed while away deserve a highlight, not the backlog.
      mergeAll(list, { highlight: after !== null });

      // The ack is complete up to its last post, even if more follow.
      const last = list.length ? list[list.length - 1].id : null;
      const cursor = parseId(last) ? last : after;
      syncedId = maxId(syncedId, cursor);
      // After a plain join `more` only says older history exists, which
      // this page doesn't load; paging forward is for a resumed join.
      if (res.more && after !== null && cursor) {
        catchUp(gen, cursor);
      } else {
        markSynced();
      }
    });
  }

  // Page forward through the REST API until the server says we're current.
  // The cursor follows the pages, not the newest post shown, because live
  // posts keep arriving at the top meanwhile.
  async function catchUp(gen, cursor) {
    let failures = 0;

    while (gen === generation) {
      const url = '/api/walls/' + encodeURIComponent(WALL) + '/posts'
        + '?after=' + encodeURIComponent(cursor) + '&limit=' + PAGE_LIMIT;
      let data;
      try {
        const resp = await fetch(url, {
          headers: { Accept: 'application/json' },
          credentials: 'same-origin',
        });
        if (!resp.ok) throw new Error('HTTP ' + resp.status);
        data = await resp.json();
      } catch (e) {
        failures += 1;
        if (failures > FETCH_RETRIES) {
          // Give up for now; syncedId was not advanced, so the next
          // reconnect resumes from the right place.
          break;
        }
        await delay(FETCH_RETRY_DELAY_MS);
        continue;
      }
      if (gen !== generation) return;
      failures = 0;

      if (data && data.truncated) {
        generation += 1;
        resetFeed();
        if (socket.connected) join();
        return;
      }

      const list = Array.isArray(data) ? data : (data && data.posts) || [];
      mergeAll(list, { highlight: true });
      const last = list.length ? list[list.length - 1].id : null;
      syncedId = maxId(syncedId, last);

      // Stop on an empty or unusable page too, rather than loop forever.
      const more = !Array.isArray(data) && data && data.more;
      if (!more || !parseId(last)) {
        markSynced();
        return;
      }
      cursor = last;
    }
  }

  function markSynced() {
    // Everything older is paged in, and everything newer arrived live since
    // we joined the room, so the whole feed is now gap-free.
    syncedId = maxId(syncedId, newestShownId());
    synced = true;
  }

  function delay(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  // ------------------------------------------------------ socket handlers

  // Connected (first time or after a reconnect): (re)join the wall's room
  // and fetch whatever we missed since the last post we fully hold.
  socket.on('connect', function () {
    generation += 1;
    synced = false;
    watchEngine();
    showLiveStatus();
    join();
  });

  // Lost the connection. The client reconnects by itself, except when the
  // server kicked us, in which case it would otherwise stay offline forever.
  socket.on('disconnect', function (reason) {
    generation += 1;
    synced = false;
    setStatus('offline', 'offline, retrying…');
    if (reason === 'io server disconnect') retryLater();
  });

  // A (re)connection attempt failed. Network errors are retried by the
  // manager with backoff; a refusal by the server (socket.active false) is not.
  socket.on('connect_error', function () {
    setStatus('offline', 'offline, retrying…');
    if (!socket.active) retryLater();
  });

  function retryLater() {
    setTimeout(function () {
      if (!socket.connected) socket.connect();
    }, SERVER_RETRY_MS);
  }

  // A new engine (transport connection) opened: watch it for upgrades. This
  // is earlier than 'connect', so a quick upgrade can't slip past unseen.
  socket.io.on('open', watchEngine);

  // Someone (possibly us) posted on a wall; only this wall's posts matter.
  socket.on('new post', function (post) {
    if (!post || post.wall !== WALL) return;
    merge(post, { highlight: true });
    // Even a duplicate (e.g. our own post, already merged from the ack)
    // proves we are current up to here, if no gap is still being filled.
    if (synced && parseId(post.id)) syncedId = maxId(syncedId, post.id);
  });

  // Presence changed on a wall: refresh the online count if it's ours.
  socket.on('online', function (data) {
    if (data && data.wall === WALL) setOnline(data.count);
  });

  // ------------------------------------------------------------- posting

  function normalized(s) {
    return s.normalize('NFC').trim();
  }

  function codePoints(s) {
    return [...s].length;
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') {
      return window.crypto.randomUUID();
    }
    // randomUUID only exists in secure contexts (https or localhost).
    const bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    return Array.from(bytes, function (b) {
      return b.toString(16).padStart(2, '0');
    }).join('');
  }

  function showError(text) {
    els.error.textContent = text || '';
  }

  function updateCounter() {
    const n = codePoints(normalized(els.message.value));
    const over = n > MAX_MESSAGE;
    els.counter.textContent = Number.isFinite(MAX_MESSAGE) ? n + ' / ' + MAX_MESSAGE : String(n);
    els.counter.classList.toggle('over-limit', over);
    els.message.classList.toggle('over-limit', over);
    els.message.setAttribute('aria-invalid', over ? 'true' : 'false');
    els.submit.disabled = sending || over || n === 0;
  }

  function rememberUsername(name) {
    // Storage can throw (disabled, private mode, quota); the name is a nicety.
    try {
      window.localStorage.setItem(USERNAME_KEY, name);
    } catch (e) { /* ignore */ }
  }

  function restoreUsername() {
    try {
      const saved = window.localStorage.getItem(USERNAME_KEY);
      if (saved && !els.username.value) els.username.value = saved;
    } catch (e) { /* ignore */ }
  }

  function send() {
    if (sending) return;
    const username = normalized(els.username.value);
    const message = normalized(els.message.value);

    if (!username) {
      showError('Please enter your name.');
      els.username.focus();
      return;
    }
    if (codePoints(username) > MAX_USERNAME) {
      showError('Your name can be at most ' + MAX_USERNAME + ' characters.');
      els.username.focus();
      return;
    }
    if (!message || codePoints(message) > MAX_MESSAGE) {
      updateCounter();
      return;
    }
    if (!socket.connected) {
      // Emitting now would sit in socket.io's buffer and might go out much
      // later, after the user has already given up and retyped it.
      showError(NOT_SENT);
      return;
    }

    if (draft.text !== message) {
      draft = { text: message, clientId: newClientId() };
    }
    const sentValue = els.message.value;
    rememberUsername(username);
    showError('');
    sending = true;
    updateCounter();

    const payload = {
      wall: WALL,
      username: username,
      message: message,
      client_id: draft.clientId,
    };
    socket.timeout(ACK_TIMEOUT_MS).emit('add to wall', payload, function (err, res) {
      sending = false;
      if (err) {
        showError(NOT_SENT);
      } else if (!res || !res.ok) {
        showError((res && res.message) || 'Not sent.');
      } else {
        merge(res.post, { highlight: true });
        draft = { text: null, clientId: null };
        // Don't throw away anything typed while the post was in flight.
        if (els.message.value === sentValue) els.message.value = '';
        els.message.focus();
      }
      updateCounter();
    });
  }

  els.form.addEventListener('submit', function (event) {
    event.preventDefault();
    send();
  });

  els.message.addEventListener('keydown', function (event) {
    // isComposing: Enter also confirms IME input (CJK etc.) and must not post.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });

  els.message.addEventListener('input', function () {
    updateCounter();
  });

  els.username.addEventListener('input', function () {
    if (els.error.textContent) showError('');
  });

  // ---------------------------------------------------------------- start

  function positiveInt(value) {
    const n = parseInt(value, 10);
    return Number.isFinite(n) && n > 0 ? n : Infinity;
  }

  setStatus('connecting', 'connecting…');
  restoreUsername();
  updateCounter();
  setInterval(refreshTimes, RELATIVE_TIME_REFRESH_MS);
  document.addEventListener('visibilitychange', function () {
    // Timers are throttled in background tabs; catch up when seen again.
    if (!document.hidden) refreshTimes();
  });
}());
