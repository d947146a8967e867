/*
 * What the speed test page shows: the form's state, the status line and
 * the progress bar, the latest run's table and chart, the notes on how the
 * bytes were counted, and the history of this session's runs.
 *
 * Every text reaches the DOM through textContent (an error message from
 * the server included). The table stacks into labelled rows on a narrow
 * screen (speed.css reads data-label) and the chart is redrawn to the width
 * it has, so the page works at 360 px.
 */

import { formatBytes, formatCount, formatMs, formatRate } from './speed-format.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

const CHART_METRICS = {
  rps: {title: 'Round trips per second (longer is faster)', value: (r) => r.rps, format: formatRate},
  median: {title: 'Median round trip (shorter is faster)', value: (r) => r.median, format: formatMs},
  bytes: {title: 'Bytes on the wire per round trip', value: (r) => r.bytes, format: formatBytes},
};

const COLUMNS = [
  {label: 'Total', key: 'total', format: formatMs},
  {label: 'Median', key: 'median', format: formatMs},
  {label: 'p95', key: 'p95', format: formatMs},
  {label: 'Round trips/s', key: 'rps', format: formatRate},
  {label: 'Bytes per round trip', key: 'bytes', format: formatBytes},
];

function cell(tag, text, label, className) {
  const el = document.createElement(tag);
  el.textContent = text;
  // Read by the stacked layout on narrow screens (speed.css).
  if (label) el.dataset.label = label;
  if (className) el.className = className;
  return el;
}

function svg(tag, attributes, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

function chartValueText(result, value, metric) {
  if (!result) return '';
  if (result.error) return 'failed';
  return metric.format(value);
}

export class SpeedView {
  /**
   * @param {HTMLElement} root  #speed
   * @param {Array} methods  [{id, label}], in the order they run
   * @param {object} limits  minRounds, maxRounds
   */
  constructor(root, methods, limits) {
    const $ = (id) => document.getElementById(id);
    this.root = root;
    this.methods = methods;
    this.limits = limits;
    this.latest = null; // the run in the table and the chart
    this.els = {
      form: $('speed-form'),
      rounds: $('rounds'),
      error: $('rounds-error'),
      run: $('run'),
      stop: $('stop'),
      progress: $('progress'),
      status: $('run-status'),
      results: $('results'),
      resultsTitle: $('results-title'),
      resultsBody: $('results-body'),
      chart: $('speed-chart'),
      chartTitle: $('chart-title'),
      chartMetric: $('chart-metric'),
      notes: $('bytes-notes'),
      transferNote: $('transfer-note'),
      history: $('history'),
      historyHead: $('history-head'),
      historyBody: $('history-body'),
    };
    for (const method of methods) {
      this.els.historyHead.append(cell('th', method.label, null, 'num'));
      this.els.historyHead.lastChild.scope = 'col';
    }
  }

  // ------------------------------------------------------------- form

  /** The number of round trips typed, or an error for a person. */
  readRounds() {
    const {minRounds, maxRounds} = this.limits;
    const raw = this.els.rounds.value.trim();
    const message = 'Enter a whole number from ' + formatCount(minRounds) + ' to '
      + formatCount(maxRounds) + '.';
    if (!/^\d+$/.test(raw)) return {error: message};
    const rounds = Number(raw);
    if (rounds < minRounds || rounds > maxRounds) return {error: message};
    return {rounds: rounds};
  }

  /** Say what is wrong with the typed number (or nothing); false if something is. */
  showRoundsError(error) {
    this.els.error.textContent = error || '';
    this.els.rounds.setAttribute('aria-invalid', error ? 'true' : 'false');
    if (error) this.els.rounds.focus();
    return !error;
  }

  setRunning(running) {
    this.root.dataset.running = running ? 'true' : 'false';
    this.els.run.disabled = running;
    this.els.rounds.disabled = running;
    this.els.stop.hidden = !running;
    this.els.progress.hidden = !running;
    if (running) this.showProgress(0, 1);
  }

  // Run and Stop were disabled or hidden under the keyboard focus: give
  // it back, without scrolling away from the results being read.
  restoreFocus() {
    if (document.activeElement === document.body) this.els.run.focus({preventScroll: true});
  }

  /** The page cannot run at all (the Socket.IO client did not load). */
  disable(text) {
    this.setStatus(text);
    this.els.run.disabled = true;
  }

  showProgress(done, rounds) {
    this.els.progress.max = rounds;
    this.els.progress.value = done;
  }

  setStatus(text) {
    this.els.status.textContent = text;
  }

  // ------------------------------------------------------------ table

  startResults(run) {
    const els = this.els;
    this.latest = run;
    els.results.hidden = false;
    els.resultsTitle.textContent = 'Run ' + run.number + ': ' + formatCount(run.rounds)
      + ' round trips per method';
    els.resultsBody.replaceChildren();
    els.notes.replaceChildren();
    els.transferNote.hidden = true;
    for (const method of this.methods) {
      const row = document.createElement('tr');
      row.dataset.method = method.id;
      row.dataset.state = 'waiting';
      row.append(cell('th', method.label));
      row.firstChild.scope = 'row';
      row.append(cell('td', 'waiting…', 'Result', 'pending'));
      row.lastChild.colSpan = COLUMNS.length;
      els.resultsBody.append(row);
    }
    this.drawChart();
  }

  row(method) {
    return this.els.resultsBody.querySelector('tr[data-method="' + method.id + '"]');
  }

  markRow(method, state) {
    const row = this.row(method);
    row.dataset.state = state;
    row.lastChild.textContent = state + '…';
  }

  showResult(method, result) {
    const row = this.row(method);
    row.replaceChildren(row.firstChild);
    if (result.error) {
      row.dataset.state = 'failed';
      row.append(cell('td', 'Failed: ' + result.error, 'Result', 'failed'));
      row.lastChild.colSpan = COLUMNS.length;
    } else {
      row.dataset.state = 'done';
      for (const column of COLUMNS) {
        const value = result[column.key];
        const td = cell('td', column.format(value), column.label, 'num ' + column.key);
        if (value !== null) td.dataset.value = String(value);
        row.append(td);
      }
    }
    const note = document.createElement('li');
    note.append(cell('strong', method.label + ': '), result.error ? 'not measured.' : result.how);
    this.els.notes.append(note);
    if (result.flatTransferSize) this.els.transferNote.hidden = false;
  }

  // ---------------------------------------------------------- history

  addHistoryRow(run) {
    this.els.history.hidden = false;
    const row = document.createElement('tr');
    row.dataset.run = String(run.number);
    row.append(cell('th', String(run.number)), cell('td', formatCount(run.rounds), null, 'num'));
    row.firstChild.scope = 'row';
    for (const method of this.methods) row.append(historyCell(run.results[method.id]));
    this.els.historyBody.prepend(row);
  }

  // ------------------------------------------------------------ chart

  /** The chart's width now, in whole pixels. */
  chartWidth() {
    return Math.round(this.els.chart.getBoundingClientRect().width);
  }

  /**
   * Horizontal bars, one per completed method, for the chosen metric. The
   * viewBox is the element's own width in pixels, so labels keep their
   * size from a phone to a desktop (redrawn on resize).
   */
  drawChart() {
    const els = this.els;
    const metric = CHART_METRICS[els.chartMetric.value] || CHART_METRICS.rps;
    els.chartTitle.textContent = metric.title;
    const results = this.latest ? this.latest.results : {};
    const rows = this.methods.map((m) => ({method: m, result: results[m.id]}));
    const values = rows.map((r) => (r.result && !r.result.error ? metric.value(r.result) : null));
    const max = Math.max(0, ...values.filter((v) => v !== null));
    const width = Math.max(200, this.chartWidth() || 600);
    const rowHeight = 46;
    const height = rows.length * rowHeight;
    els.chart.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    // role="img" hides the bars' text from screen readers; the name says it all.
    els.chart.setAttribute('aria-label', metric.title + ': ' + rows.map((row, i) =>
      row.method.label + ' ' + (chartValueText(row.result, values[i], metric) || 'waiting')).join('; '));
    els.chart.setAttribute('height', String(height));
    els.chart.replaceChildren();
    rows.forEach((row, i) => {
      const y = i * rowHeight;
      const value = values[i];
      els.chart.append(svg('text', {x: 0, y: y + 15, class: 'chart-label'}, row.method.label));
      els.chart.append(svg('text', {x: width, y: y + 15, class: 'chart-value', 'text-anchor': 'end'},
        chartValueText(row.result, value, metric)));
      els.chart.append(svg('rect', {x: 0, y: y + 22, width: width, height: 14, rx: 3, class: 'track'}));
      if (value === null) return;
      els.chart.append(svg('rect', {
        x: 0, y: y + 22, width: max > 0 ? Math.max(2, (value / max) * width) : 2, height: 14, rx: 3,
        class: 'bar bar-' + row.method.id, 'data-method': row.method.id,
      }));
    });
  }
}

function historyCell(result) {
  const td = cell('td', '', null, 'num');
  if (result.error) {
    td.textContent = 'failed';
    td.title = result.error;
    return td;
  }
  td.append(cell('span', formatRate(result.rps) + '/s', null, 'history-rate'),
    cell('span', formatMs(result.median) + ' · ' + formatBytes(result.bytes), null, 'history-detail'));
  return td;
}
