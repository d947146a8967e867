"""Memory and open files of every process of the soak, sampled over the run, and their bounds.

Each sample holds, per role, the resident memory (RSS), the number of open
files (``/proc/<pid>/fd``) and the CPU share since the last sample: the
three app processes (``app:<port>``; a restarted one keeps its label, with
a new pid), nginx (master and workers summed; a reload adds workers that
live while old connections do), Redis, and the client processes.

The bounds, and why:

- **RSS growth of an app process** from its first sample after
  :data:`WARM_S` of life to its last one, for incarnations that lived at
  least :data:`MIN_LIFE_S` after warming: at most 25 % + 48 MiB. A
  per-post or per-reconnect leak over thousands of posts and hundreds of
  reconnects is far above that; the normal creep of a Python heap (the
  allocator keeping freed arenas, buffers sized for a burst) stays below.
- **RSS ceilings**: an app process 400 MiB, nginx (all processes) 128
  MiB, Redis 256 MiB (the soak stores a few MiB of posts).
- **Open files at the peak**: an app process holds a socket per WebSocket
  and per polling request in flight, plus its Redis connections: at most
  2 x clients + 256 (the app's own ``server_connection_limit`` rule).
  nginx holds two per connection: 4 x clients + 256. Redis: 512.
- **Open files at the end**, once every client has closed and 10 s have
  passed, against what the process held at the start, before any client
  connected: nginx within 16. An app process and Redis may keep pooled Redis
  connections: redis-py never closes an idle one, so each app keeps as many
  as its handlers once needed at the same moment, and a reconnect storm
  (every page of a process re-joining in the same second, as after the
  rolling restart) needs up to one per page. So an app process may end with
  :func:`redis_connections_bound` more (its share of the pages + 32; measured:
  20 to 100 of 170) and Redis with that per app process. A connection leaked
  per post or per reconnect passes it within one short run (about a thousand
  of each). The same bound applies to Redis's ``CLIENT LIST`` by owning
  process at the end.
"""

import time

import psutil

WARM_S = 20.0
MIN_LIFE_S = 60.0
RSS_GROWTH_FRACTION = 0.25
RSS_GROWTH_MIB = 48
RSS_CEILING_MIB = {"app": 400, "nginx": 128, "redis": 256}
FD_SLACK_END_NGINX = 16
MIB = 2**20


def redis_connections_bound(clients, apps):
    """Pooled Redis connections one app process may keep: its share of the pages + 32."""
    return clients // apps + 32


def role(label):
    return label.split(":", 1)[0]


class Sampler:
    """Samples the processes that ``targets()`` names: ``{label: pid or [pids]}``."""

    def __init__(self, targets, epoch):
        self.targets = targets
        self.epoch = epoch
        self.samples = []
        self.born = {}  # (label, pid) -> t of the first sample that saw it
        self._procs = {}

    def _proc(self, pid):
        proc = self._procs.get(pid)
        if proc is None:
            proc = self._procs[pid] = psutil.Process(pid)
            proc.cpu_percent(None)
        return proc

    def sample(self):
        t = time.time() - self.epoch
        row = {}
        for label, pids in self.targets().items():
            if pids is None:
                continue
            pids = pids if isinstance(pids, list) else [pids]
            rss = fds = 0
            cpu = 0.0
            alive = []
            for pid in pids:
                try:
                    proc = self._proc(pid)
                    if proc.status() == psutil.STATUS_ZOMBIE:
                        continue  # exited, not yet reaped: nothing to measure
                    rss += proc.memory_info().rss
                    fds += proc.num_fds()
                    cpu += proc.cpu_percent(None)
                    alive.append(pid)
                except psutil.Error:
                    self._procs.pop(pid, None)
            if alive:
                key = (label, alive[0])
                self.born.setdefault(key, t)
                row[label] = {
                    "pid": alive[0],
                    "pids": len(alive),
                    "rss": rss,
                    "fds": fds,
                    "cpu": cpu,
                }
        self.samples.append({"t": round(t, 2), "procs": row})
        return row


def evaluate(samples, born, baseline, end, clients, apps, soak_window):
    """Check the bounds; return ``(table rows, failures)``.

    :param baseline: ``{label: fds}`` before any client connected.
    :param end: ``{label: fds}`` after every client closed.
    :param soak_window: ``(t_start, t_end)``: growth is judged on samples in it.
    """
    rows, failures = [], []
    by_label = {}
    for sample in samples:
        for label, s in sample["procs"].items():
            by_label.setdefault(label, []).append((sample["t"], s))
    for label, series in sorted(by_label.items()):
        kind = role(label)
        if kind not in RSS_CEILING_MIB:
            rows.append(_row(label, series, None, baseline, end))
            continue
        peak_rss = max(s["rss"] for _, s in series)
        peak_fds = max(s["fds"] for _, s in series)
        growth = []
        if kind == "app":
            for pid in sorted({s["pid"] for _, s in series}):
                life = [(t, s) for t, s in series if s["pid"] == pid]
                first_t = born.get((label, pid), life[0][0])
                warm = [
                    (t, s)
                    for t, s in life
                    if t >= first_t + WARM_S and soak_window[0] <= t <= soak_window[1]
                ]
                if len(warm) >= 2 and warm[-1][0] - warm[0][0] >= MIN_LIFE_S:
                    a, b = warm[0][1]["rss"], warm[-1][1]["rss"]
                    limit = a * RSS_GROWTH_FRACTION + RSS_GROWTH_MIB * MIB
                    growth.append(
                        {
                            "pid": pid,
                            "from_mib": round(a / MIB, 1),
                            "to_mib": round(b / MIB, 1),
                            "over_s": round(warm[-1][0] - warm[0][0]),
                            "limit_mib": round(limit / MIB, 1),
                        }
                    )
                    if b - a > limit:
                        failures.append(
                            "%s (pid %d): RSS grew %.1f -> %.1f MiB in %d s (limit +%.1f MiB)"
                            % (label, pid, a / MIB, b / MIB, warm[-1][0] - warm[0][0], limit / MIB)
                        )
        ceiling = RSS_CEILING_MIB[kind] * MIB
        if peak_rss > ceiling:
            failures.append(
                "%s: RSS peaked at %.1f MiB (ceiling %d MiB)"
                % (label, peak_rss / MIB, RSS_CEILING_MIB[kind])
            )
        fd_ceiling = {"app": 2 * clients + 256, "nginx": 4 * clients + 256, "redis": 512}[kind]
        if peak_fds > fd_ceiling:
            failures.append(
                "%s: %d open files at the peak (bound %d)" % (label, peak_fds, fd_ceiling)
            )
        slack = {
            "app": redis_connections_bound(clients, apps) + 16,
            "nginx": FD_SLACK_END_NGINX,
            "redis": apps * redis_connections_bound(clients, apps),
        }[kind]
        if label in baseline and label in end:
            if end[label] > baseline[label] + slack:
                failures.append(
                    "%s: %d open files at the end, %d at the start (slack %d)"
                    % (label, end[label], baseline[label], slack)
                )
        row = _row(label, series, growth, baseline, end)
        row.update(rss_ceiling_mib=RSS_CEILING_MIB[kind], fd_ceiling=fd_ceiling, fd_slack_end=slack)
        rows.append(row)
    return rows, failures


def _row(label, series, growth, baseline, end):
    return {
        "label": label,
        "pids": sorted({s["pid"] for _, s in series}),
        "rss_first_mib": round(series[0][1]["rss"] / MIB, 1),
        "rss_last_mib": round(series[-1][1]["rss"] / MIB, 1),
        "rss_peak_mib": round(max(s["rss"] for _, s in series) / MIB, 1),
        "fds_peak": max(s["fds"] for _, s in series),
        "fds_start": baseline.get(label),
        "fds_end": end.get(label),
        "cpu_mean": round(sum(s["cpu"] for _, s in series) / len(series), 1),
        "cpu_peak": round(max(s["cpu"] for _, s in series), 1),
        "growth": growth,
    }
