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
 * run, so only round trips are timed. This is the page's entry module
 * (templates/speed.html); the parts are:
 *
 *   speed-run.js      the methods in order, the timing loop, Stop
 *   speed-http.js     the fetch method, HTTP probes, Resource Timing
 *   speed-sockets.js  WebSocket and Socket.IO methods
 *   speed-bytes.js    byte accounting (frames, HTTP heads, polling estimates)
 *   speed-stats.js    median, p95, round trips per second
 *   speed-view.js     the form, table, chart and history; speed-format.js numbers
 *
 * Configuration comes only from data- attributes on #speed (no inline
 * script, so the Content-Security-Policy of default-src 'self' holds).
 */

import { METHODS, Runner, Stopped } from './speed-run.js';
import { SpeedView } from './speed-view.js';

// What travels: short, ASCII, and the same every time, so that the
// methods differ only in how they carry it.
const TEXT = 'hello, wall';
const TIMEOUT_MS = 10000;

function intOr(value, fallback) {
  const n = parseInt(value, 10);
  return Number.isFinite(n) ? n : fallback;
}

/** The settings every method is handed, from #speed's data- attributes. */
function readConfig(root) {
  const data = root.dataset;
  const scheme = self.location.protocol === 'https:' ? 'wss://' : 'ws://';
  return {
    io: null, // socket.io's `io`, once its module has loaded
    namespace: data.namespace || '/speed',
    socketioPath: (data.socketioPath || '/socket.io').replace(/\/$/, ''),
    echoUrl: new URL(data.echoUrl || '/api/echo', self.location.href),
    wsUrl: scheme + self.location.host + (data.wsPath || '/ws/echo'),
    origin: self.location.origin,
    text: TEXT,
    timeoutMs: TIMEOUT_MS,
  };
}

function start(root) {
  const config = readConfig(root);
  const view = new SpeedView(root, METHODS, {
    minRounds: intOr(root.dataset.minRounds, 10),
    maxRounds: intOr(root.dataset.maxRounds, 10000),
  });
  const runner = new Runner(config, view);
  const els = view.els;

  async function onSubmit() {
    const {rounds, error} = view.readRounds();
    if (!view.showRoundsError(error)) return;
    view.setRunning(true);
    try {
      await runner.run(rounds);
    } catch (err) {
      view.setStatus(err instanceof Stopped
        ? 'Stopped: this run is not kept.'
        : 'The run failed: ' + (err.message || String(err)));
    } finally {
      view.setRunning(false);
      view.restoreFocus();
    }
  }

  // Never a native submit (a reload with ?rounds=), even before the page
  // is ready; until then (data-ready) Run does nothing.
  els.form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (config.io !== null) onSubmit();
  });

  // Imported here rather than statically by speed-sockets.js, so that the
  // page can say so if it fails to load instead of not starting at all
  // (speed.html preloads it alongside this module).
  import('../vendor/socket.io-client/socket.io.esm.min.js').then((socketio) => {
    config.io = socketio.io;
    els.stop.addEventListener('click', () => {
      runner.stop();
      view.setStatus('Stopping after this round trip…');
    });
    els.chartMetric.addEventListener('change', () => view.drawChart());
    let lastWidth = 0;
    self.addEventListener('resize', () => {
      const width = view.chartWidth();
      if (view.latest && width !== lastWidth) view.drawChart();
      lastWidth = width;
    });
    root.dataset.ready = 'true';
  }, () => {
    view.disable('The Socket.IO client did not load; reload the page.');
  });
}

const root = document.getElementById('speed');
if (root) start(root);
