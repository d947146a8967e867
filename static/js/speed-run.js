/*
 * The speed test's run loop: the four methods, one after the other, each
 * timed over N round trips of the same short string.
 *
 *   sio-ws       Socket.IO over WebSocket: an acknowledged `echo` on /speed
 *   sio-polling  Socket.IO over HTTP long-polling: the same event
 *   ws           the browser's own WebSocket to /ws/echo, no Socket.IO
 *   fetch        one POST to /api/echo per round trip
 *
 * A method's `open(config)` connects (outside the clock) and resolves with
 * a session: start() begins counting, echo(text) is one round trip,
 * bytes(run) says what they cost on the wire ({perTrip, how,
 * flatTransferSize}), close() disconnects. A method that fails is reported
 * as failed and the run goes on; Stop ends the run after the round trip in
 * flight, and a stopped run is not kept.
 *
 * What the page shows goes through `view` (speed-view.js); the figures come
 * from speed-stats.js.
 */

import { probeHttp, resetResourceTimings, openFetch } from './speed-http.js';
import { openWebSocket, openSocketIO } from './speed-sockets.js';
import { timingStats, fastest } from './speed-stats.js';
import { formatRate } from './speed-format.js';

export const METHODS = [
  {id: 'sio-ws', label: 'Socket.IO, WebSocket', open: (config) => openSocketIO(config, 'websocket')},
  {id: 'sio-polling', label: 'Socket.IO, long-polling', open: (config) => openSocketIO(config, 'polling')},
  {id: 'ws', label: 'WebSocket', open: openWebSocket},
  {id: 'fetch', label: 'fetch (AJAX)', open: openFetch},
];

/** Thrown out of a run that Stop ended. */
export class Stopped extends Error {}

/** The status line after a run: which method was fastest, and what failed. */
export function summaryText(run, methods) {
  const best = fastest(methods, run.results);
  if (best === null) return 'Run ' + run.number + ' failed: no method completed.';
  const failed = methods.filter((m) => run.results[m.id].error).length;
  return 'Run ' + run.number + ' done: ' + best.label + ' was fastest, '
    + formatRate(run.results[best.id].rps) + ' round trips per second.'
    + (failed ? ' ' + failed + ' method' + (failed > 1 ? 's' : '') + ' failed.' : '');
}

export class Runner {
  /**
   * @param {object} config  the page's settings (speed.js), handed to each method
   * @param {object} view  startResults, markRow, showResult, drawChart,
   *   addHistoryRow, setStatus, showProgress (speed-view.js)
   */
  constructor(config, view) {
    this.config = config;
    this.view = view;
    this.runs = []; // completed runs, oldest first
    this.stopRequested = false;
  }

  /** Ask the run in progress to stop after the round trip in flight. */
  stop() {
    this.stopRequested = true;
  }

  checkStopped() {
    if (this.stopRequested) throw new Stopped('stopped');
  }

  /** Runs every method `rounds` times; rejects with Stopped if stopped. */
  async run(rounds) {
    this.stopRequested = false;
    const run = {number: this.runs.length + 1, rounds: rounds, results: {}};
    this.view.startResults(run);
    // A failed probe leaves only the long-polling byte counts unknown.
    const probe = await probeHttp(this.config);
    for (const [index, method] of METHODS.entries()) {
      this.checkStopped();
      this.view.setStatus('Running ' + (index + 1) + ' of ' + METHODS.length + ': ' + method.label + '…');
      this.view.markRow(method, 'running');
      try {
        run.results[method.id] = await this.timeMethod(method, rounds, probe);
      } catch (err) {
        if (err instanceof Stopped) throw err;
        run.results[method.id] = {error: err.message || String(err)};
      }
      this.view.showResult(method, run.results[method.id]);
      this.view.drawChart();
    }
    this.runs.push(run);
    this.view.addHistoryRow(run);
    this.view.setStatus(summaryText(run, METHODS));
  }

  /** Connects, times `rounds` round trips, measures bytes, disconnects. */
  async timeMethod(method, rounds, probe) {
    const text = this.config.text;
    const session = await method.open(this.config);
    try {
      resetResourceTimings(rounds);
      const times = new Float64Array(rounds);
      session.start();
      const since = performance.now();
      for (let i = 0; i < rounds; i++) {
        this.checkStopped();
        const t0 = performance.now();
        const reply = await session.echo(text);
        times[i] = performance.now() - t0;
        if (reply !== text) throw new Error('The echo came back different.');
        this.view.showProgress(i + 1, rounds);
      }
      const total = performance.now() - since;
      const bytes = await session.bytes({rounds: rounds, since: since, probe: probe});
      return Object.assign(timingStats(times, total), {
        bytes: bytes.perTrip,
        how: bytes.how,
        flatTransferSize: Boolean(bytes.flatTransferSize),
      });
    } finally {
      session.close();
    }
  }
}
