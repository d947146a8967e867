"""The soak's artifacts: result.json, report.md and soak.png (posts/s, delivery latency,
memory, with the faults as shaded spans), and a scan of the app processes' logs."""

import glob
import json
import math
import os
import re
from datetime import datetime

from . import views
from .timeline import percentile

MIB = 2**20


def scan_logs(folder):
    """Per log file (the app processes' and nginx's error log): counts of tracebacks,
    errors and warnings, and the most frequent messages with their numbers blanked."""
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.log"))):
        if os.path.basename(path) == "access.log":
            continue
        counts = {"traceback": 0, "error": 0, "warning": 0}
        messages = {}
        with open(path, errors="replace") as f:
            for line in f:
                kind = None
                if line.startswith("Traceback"):
                    kind = "traceback"
                elif re.search(r"\b(ERROR|CRITICAL)\b|\[(error|crit|alert|emerg)\]", line):
                    kind = "error"
                elif re.search(r"\bWARNING\b|\[warn\]", line):
                    kind = "warning"
                if kind:
                    counts[kind] += 1
                    text = re.sub(r"^[\d/:, -]+", "", line.strip())  # the timestamp
                    text = re.sub(r"sid=[^ &\"]+", "sid=S", text)
                    text = re.sub(r"\d+", "N", text)[:160]
                    messages[text] = messages.get(text, 0) + 1
        top = sorted(messages.items(), key=lambda kv: -kv[1])[:8]
        out[os.path.basename(path)] = {"counts": counts, "top": top}
    return out


def nginx_statuses(path, epoch):
    """``{second since epoch: {status: n}}`` from nginx's access log (combined format)."""
    out = {}
    pattern = re.compile(r'\[([^\]]+)\] "[^"]*" (\d{3}) ')
    try:
        f = open(path, errors="replace")
    except FileNotFoundError:
        return out
    with f:
        for line in f:
            m = pattern.search(line)
            if not m:
                continue
            try:
                when = datetime.strptime(m.group(1), "%d/%b/%Y:%H:%M:%S %z").timestamp()
            except ValueError:
                continue
            per = out.setdefault(int(when - epoch), {})
            per[m.group(2)] = per.get(m.group(2), 0) + 1
    return out


def merge_history(histories):
    """One ``(second, fewest pages connected, posts pending)`` per second from each client
    process's status lines (a process silent in a second counts as it last was)."""
    per = []
    for history in histories:
        seconds = {}
        for t, fewest, pending in history:
            second = int(t)
            old = seconds.get(second)
            seconds[second] = (
                (fewest, pending) if old is None else (min(old[0], fewest), max(old[1], pending))
            )
        per.append(seconds)
    if not per or not all(per):
        return []
    out = []
    last = [None] * len(per)
    for second in range(min(min(p) for p in per), max(max(p) for p in per) + 1):
        for i, seconds in enumerate(per):
            if second in seconds:
                last[i] = seconds[second]
        if all(x is not None for x in last):
            out.append((second, sum(x[0] for x in last), sum(x[1] for x in last)))
    return out


def fault_windows(faults, soak_end):
    """(fault, window end): each fault's window runs until the next one starts."""
    out = []
    for n, fault in enumerate(faults):
        end = faults[n + 1]["start"] if n + 1 < len(faults) else (soak_end or fault["end"] + 30)
        out.append((fault, end))
    return out


def recovery(faults, history, clients, soak_end, statuses):
    """Per fault: fewest pages connected, when all were back, nginx 5xx in its window."""
    for fault, end in fault_windows(faults, soak_end):
        # second s covers [s, s + 1): the seconds that overlap the fault's window
        points = [h for h in history if h[0] + 1 > fault["start"] and h[0] + 1 <= end]
        if points:
            fault["min_connected"] = min(h[1] for h in points)
            back = [h[0] for h in points if h[0] >= fault["end"] and h[1] >= clients]
            fault["all_connected_after_s"] = round(back[0] - fault["start"], 1) if back else None
            fault["max_pending"] = max(h[2] for h in points)
            fault["all_offline_s"] = sum(1 for h in points if h[1] == 0)
        errors = {}
        for second in range(int(fault["start"]), int(end) + 1):
            for status, n in statuses.get(second, {}).items():
                if status.startswith("5"):
                    errors[status] = errors.get(status, 0) + n
        fault["nginx_5xx"] = errors


def observations(summary):
    """What is not a failure of the checks but worth a look: outages, silent canaries."""
    notes = []
    for f in summary.get("faults", []):
        if f.get("all_offline_s", 0) >= 2:
            notes.append(
                "%s at %.0f s: every page offline for %d s, %s; nginx answered %s"
                % (
                    f["name"],
                    f["start"],
                    f["all_offline_s"],
                    "all back %.0f s after it started" % f["all_connected_after_s"]
                    if f.get("all_connected_after_s") is not None
                    else "not all back before the next fault",
                    ", ".join("%d x %s" % (n, st) for st, n in sorted(f["nginx_5xx"].items()))
                    or "no 5xx",
                )
            )
    for name, c in (summary.get("canaries") or {}).items():
        if c["longest_silence_s"] > 15:
            notes.append(
                "%s got no live post for %d s from %s s"
                % (name, c["longest_silence_s"], c["silence_from_s"])
            )
    return notes


def canary_silences(timeline, window):
    """Per canary (one per app process, connected to it directly): its deliveries and the
    longest run of seconds without one inside ``window``."""
    out = {}
    if timeline is None or not window[0]:
        return out
    first, last = int(window[0]) + 2, int(window[1] or window[0])
    for name, per in sorted(timeline.counts.items()):
        if not name.startswith("delivered:"):
            continue
        longest, run, at = 0, 0, None
        for second in range(first, last):
            if per.get(second):
                run = 0
            else:
                run += 1
                if run > longest:
                    longest, at = run, second - run + 1
        out[name.split(":", 1)[1]] = {
            "deliveries": sum(per.values()),
            "longest_silence_s": longest,
            "silence_from_s": at,
        }
    return out


def _views_total(summary, kind):
    return summary.get("views", {}).get("totals", {}).get(kind, 0)


def figures(summary):
    """The headline numbers, as (name, value) pairs."""
    stored = summary.get("stored", {}).get("counts", {})
    clients = summary.get("clients", [])
    pages = [c for c in clients if not c["name"].startswith("canary")]
    statuses = summary.get("client_status", [])
    faults = summary.get("faults", [])
    out = [
        ("result", "PASSED" if summary.get("passed") else "FAILED"),
        ("wall time", "%.0f s" % summary.get("wall_time_s", 0)),
        ("soak", "%g s" % summary["config"]["soak_s"]),
        (
            "clients",
            "%d pages (%d polling), %d connected and complete at the end; %d canaries"
            % (
                len(pages),
                sum(1 for c in pages if c["transport"] == "polling"),
                sum(1 for c in pages if c["connected_at_end"] and c["complete_at_end"]),
                len(clients) - len(pages),
            ),
        ),
        (
            "posts",
            "%d made, %d acknowledged (%d arrived before their ack, %d seen then lost "
            "by Redis and stored again), %d retried, "
            "%d stored by an earlier attempt than the one acknowledged"
            % (
                stored.get("posts", 0),
                stored.get("acknowledged", 0),
                stored.get("arrived_before_its_ack", 0),
                stored.get("seen_then_lost_by_redis", 0),
                stored.get("retried", 0),
                stored.get("stored_by_an_earlier_attempt", 0),
            ),
        ),
        (
            "answers",
            ", ".join(
                "%s %d" % (k.split(":", 1)[1], v)
                for k, v in sorted(stored.items())
                if k.startswith("answer:")
            ),
        ),
        ("live deliveries", "%d" % sum(s.get("delivered", 0) for s in statuses)),
        ("reconnects", "%d" % sum(c["reconnects"] for c in clients)),
        (
            "faults",
            "%d done, %d failed: %s"
            % (
                sum(1 for f in faults if f.get("ok")),
                sum(1 for f in faults if not f.get("ok")),
                ", ".join(f["name"] for f in faults),
            ),
        ),
        (
            "lost / doubled / reordered / gaps",
            "%d / %d / %d / %d (views); %d acknowledged not stored, %d stored twice"
            % (
                _views_total(summary, "lost"),
                _views_total(summary, "doubled"),
                _views_total(summary, "reordered"),
                _views_total(summary, "gap"),
                stored.get("acknowledged_not_stored", 0),
                stored.get("stored_twice", 0),
            ),
        ),
        (
            "allowed overlaps",
            "%d page/live, %d re-fetched; %d resyncs, %d truncated"
            % (
                _views_total(summary, "page_live_overlap"),
                _views_total(summary, "refetched"),
                sum(d["resyncs"] for c in clients for d in c.get("walls_detail", {}).values()),
                sum(d["truncations"] for c in clients for d in c.get("walls_detail", {}).values()),
            ),
        ),
    ]
    out.append(
        (
            "nginx answers",
            ", ".join("%s: %d" % kv for kv in summary.get("nginx_statuses", {}).items()) or "-",
        )
    )
    canaries = summary.get("canaries") or {}
    if canaries:
        out.append(
            (
                "canaries (longest silence)",
                ", ".join(
                    "%s %d s at %s" % (k, v["longest_silence_s"], v["silence_from_s"])
                    for k, v in canaries.items()
                ),
            )
        )
    for row in summary.get("resources", []):
        out.append(
            (
                "resources " + row["label"],
                "RSS %.0f -> %.0f MiB (peak %.0f), fds peak %d (start %s, end %s), cpu mean %.0f%%"
                % (
                    row["rss_first_mib"],
                    row["rss_last_mib"],
                    row["rss_peak_mib"],
                    row["fds_peak"],
                    row["fds_start"],
                    row["fds_end"],
                    row["cpu_mean"],
                ),
            )
        )
    return out


def summary_lines(summary):
    lines = ["SOAK SUMMARY"]
    for name, value in figures(summary):
        lines.append("  %-34s %s" % (name, value))
    for f in summary.get("faults", []):
        lines.append(
            "  fault %d %-16s at %6.1f s, %5.1f s long: %s; fewest pages up %s, all up after %s,"
            " nginx 5xx %s"
            % (
                f["number"],
                f["name"],
                f["start"],
                f["end"] - f["start"],
                "ok" if f.get("ok") else "FAILED",
                f.get("min_connected", "-"),
                "-"
                if f.get("all_connected_after_s") is None
                else "%.1f s" % f["all_connected_after_s"],
                sum(f.get("nginx_5xx", {}).values()),
            )
        )
    for note in summary.get("observations", []):
        lines.append("  NOTE: %s" % note)
    for failure in summary.get("failures", []):
        lines.append("  FAILURE: %s" % failure)
    return lines


def write(folder, summary, timeline, samples):
    with open(os.path.join(folder, "result.json"), "w") as f:
        json.dump(summary, f, indent=1, default=str)
    plotted = False
    if timeline is not None or samples:
        try:
            plot(os.path.join(folder, "soak.png"), summary, timeline, samples)
            plotted = True
        except Exception as exc:  # a report without its plot is still a report
            summary.setdefault("notes", []).append("plot failed: %s" % exc)
    with open(os.path.join(folder, "report.md"), "w") as f:
        f.write(markdown(summary, plotted))


def plot(path, summary, timeline, samples):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(4, 1, figsize=(13, 13), sharex=True)
    ax_posts, ax_lat, ax_rss, ax_fds = axes
    if timeline is not None:
        seconds = sorted(
            set().union(*(set(v) for v in timeline.counts.values())) if timeline.counts else []
        )
        if seconds:
            xs = list(range(min(seconds), max(seconds) + 1))
            for name, style in (("created", "-"), ("acked", "-"), ("attempts", ":")):
                per = timeline.counts.get(name, {})
                ax_posts.plot(xs, [per.get(x, 0) for x in xs], style, label=name + "/s", lw=1)
            statuses = summary.get("nginx_per_second") or {}
            if statuses:
                ax_posts.plot(
                    xs,
                    [
                        sum(n for st, n in statuses.get(x, {}).items() if st.startswith("5"))
                        for x in xs
                    ],
                    color="red",
                    lw=0.8,
                    label="nginx 5xx/s",
                )
            ax_deliv = ax_posts.twinx()
            per = timeline.counts.get("delivered", {})
            ax_deliv.plot(
                xs,
                [per.get(x, 0) for x in xs],
                color="grey",
                alpha=0.5,
                lw=0.8,
                label="deliveries/s",
            )
            ax_deliv.set_ylabel("live deliveries/s")
            ax_deliv.legend(loc="upper right", fontsize=8)
            # seconds without data are gaps (NaN), not lines drawn across an outage
            hists = timeline.hists.get("delivery", {})
            for q, name in ((0.5, "p50"), (0.99, "p99")):
                ax_lat.plot(
                    xs,
                    [percentile(hists[x], q) if hists.get(x) else math.nan for x in xs],
                    lw=1,
                    label="delivery " + name,
                )
            acks = timeline.hists.get("ack", {})
            ax_lat.plot(
                xs,
                [percentile(acks[x], 0.99) if acks.get(x) else math.nan for x in xs],
                lw=0.8,
                ls=":",
                label="post ack p99 (first send to ack)",
            )
            ax_lat.set_yscale("log")
    ax_posts.set_ylabel("posts/s")
    ax_posts.legend(loc="upper left", fontsize=8)
    ax_lat.set_ylabel("latency (ms)")
    ax_lat.legend(loc="upper left", fontsize=8)
    labels = sorted({label for s in samples for label in s["procs"]})
    for label in labels:
        xs = [s["t"] for s in samples if label in s["procs"]]
        ys = [s["procs"][label]["rss"] / MIB for s in samples if label in s["procs"]]
        ax_rss.plot(xs, ys, lw=1, label=label)
    ax_rss.set_ylabel("RSS (MiB)")
    ax_rss.legend(loc="upper left", fontsize=7, ncol=4)
    for label in labels:
        xs = [s["t"] for s in samples if label in s["procs"]]
        ys = [s["procs"][label]["fds"] for s in samples if label in s["procs"]]
        ax_fds.plot(xs, ys, lw=1, label=label)
    points = [
        (s["t"], s["procs"]["redis"]["clients"])
        for s in samples
        if s["procs"].get("redis", {}).get("clients") is not None
    ]
    if points:
        ax_fds.plot(*zip(*points), lw=1, ls="--", color="black", label="redis connected_clients")
    ax_fds.set_ylabel("open files")
    ax_fds.set_yscale("symlog", linthresh=10)
    ax_fds.set_xlabel("seconds since the soak started its processes")
    ax_fds.legend(loc="upper left", fontsize=7, ncol=4)
    colors = [
        "#f4a6a6",
        "#f7d08a",
        "#b5e3a1",
        "#a1d6e3",
        "#c7b3ef",
        "#f3b3de",
        "#d9d9d9",
        "#ffe08a",
    ]
    window = summary.get("soak_window") or [None, None]
    for ax in axes:
        if window[0]:
            ax.axvspan(0, window[0], color="#eeeeee", alpha=0.6, lw=0)
        if window[1]:
            ax.axvline(window[1], color="black", lw=0.8, ls="--")
        for n, fault in enumerate(summary.get("faults", [])):
            ax.axvspan(
                fault["start"],
                max(fault["end"], fault["start"] + 0.5),
                color=colors[n % len(colors)] if fault.get("ok") else "red",
                alpha=0.5,
                lw=0,
            )
    for fault in summary.get("faults", []):
        ax_posts.annotate(
            fault["name"],
            xy=(fault["start"], 1.0),
            xycoords=("data", "axes fraction"),
            rotation=60,
            fontsize=7,
            va="bottom",
        )
    fig.suptitle("wall soak: %s" % ("PASSED" if summary.get("passed") else "FAILED"), y=0.995)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return "\n".join(out)


def markdown(summary, plotted):
    parts = []
    passed = summary.get("passed")
    parts.append("# Soak: %s\n" % ("PASSED" if passed else "FAILED"))
    parts.append(
        "`%s` — run by `SOAK_S=%g make soak` (`python -m tests.reliability.soak`).\n"
        % (summary["dir"], summary["config"]["soak_s"])
    )
    parts.append(_table(["", ""], figures(summary)))
    if summary.get("failures"):
        parts.append("\n## Failures\n")
        parts.extend("- %s" % f for f in summary["failures"])
    if summary.get("observations"):
        parts.append("\n## Observations (not failures of the checks)\n")
        parts.extend("- %s" % n for n in summary["observations"])
    if plotted:
        parts.append(
            "\n## Over time\n\n![posts/s, latency, memory and open files over the run](soak.png)\n\n"
            "Grey: start-up (processes, then clients connecting); coloured spans: the faults "
            "(red: a fault that failed); dashed line: posting stopped."
        )
    parts.append("\n## Faults, in the order they ran\n")
    parts.append(
        _table(
            [
                "#",
                "fault",
                "planned",
                "start",
                "took",
                "ok",
                "fewest pages up",
                "all up again after",
                "most posts pending",
                "nginx 5xx",
                "details",
            ],
            [
                (
                    f["number"],
                    f["name"],
                    "+%.1f s" % f["planned_at"],
                    "%.1f s" % f["start"],
                    "%.1f s" % (f["end"] - f["start"]),
                    "yes" if f.get("ok") else "**no**: %s" % f.get("error"),
                    f.get("min_connected", "-"),
                    "-"
                    if f.get("all_connected_after_s") is None
                    else "%.1f s" % f["all_connected_after_s"],
                    f.get("max_pending", "-"),
                    ", ".join("%s: %d" % kv for kv in sorted(f.get("nginx_5xx", {}).items()))
                    or "0",
                    "`%s`" % json.dumps(f.get("details"))[:400],
                )
                for f in summary.get("faults", [])
            ],
        )
    )
    canaries = summary.get("canaries")
    if canaries:
        parts.append("\n## Canaries: one page per app process, connected to it directly\n")
        parts.append(
            "A canary posts every second on a wall of its own; each app process's canary "
            "should get one live post a second. A long silence outside a fault that "
            "touches that process is a process gone deaf.\n"
        )
        parts.append(
            _table(
                ["canary", "live deliveries", "longest silence", "from"],
                [
                    (k, v["deliveries"], "%d s" % v["longest_silence_s"], v["silence_from_s"])
                    for k, v in canaries.items()
                ],
            )
        )
    stored = summary.get("stored")
    if stored:
        parts.append("\n## Posts against the streams\n")
        parts.append(_table(["count", "n"], sorted(stored["counts"].items())))
        for kind, samples in stored["samples"].items():
            parts.append("\n**%s** (first %d):\n" % (kind, len(samples)))
            parts.extend("- `%s`" % json.dumps(s)[:600] for s in samples[:10])
    v = summary.get("views")
    if v:
        parts.append("\n## What the clients saw\n")
        totals = v["totals"]
        rows = [(k, totals.get(k, 0)) for k in views.Findings.KINDS + ("incomplete_at_end",)]
        rows += [("allowed: " + k, totals.get(k, 0)) for k in views.Findings.ALLOWED]
        rows += [
            (k.split(":", 1)[1], n) for k, n in sorted(totals.items()) if k.startswith("seen:")
        ]
        parts.append(
            "Failures first, then the overlaps the protocol allows, then what was seen "
            "(a view is one page on one wall; a join is one join ack).\n"
        )
        parts.append(_table(["", "n"], rows))
        if v["failures"]:
            parts.append("\nFirst failing client views (segments: one per join ack):\n")
            for f in v["failures"][:15]:
                parts.append("- `%s`" % json.dumps(f)[:1500])
        parts.append("\n### How acks, pages, live posts and re-joins combine\n")
        parts.append("```\n" + views.__doc__.strip() + "\n```")
    res = summary.get("resources")
    if res:
        parts.append("\n## Memory and open files\n")
        parts.append(
            _table(
                [
                    "process",
                    "pids",
                    "RSS first/last/peak MiB",
                    "growth per incarnation",
                    "fds start/peak/end",
                    "bounds",
                    "cpu mean/peak %",
                ],
                [
                    (
                        r["label"],
                        len(r["pids"]),
                        "%.0f / %.0f / %.0f"
                        % (r["rss_first_mib"], r["rss_last_mib"], r["rss_peak_mib"]),
                        "; ".join(
                            "%.0f->%.0f in %ds (limit +%.0f)"
                            % (g["from_mib"], g["to_mib"], g["over_s"], g["limit_mib"])
                            for g in (r.get("growth") or [])
                        )
                        or "-",
                        "%s / %s / %s" % (r["fds_start"], r["fds_peak"], r["fds_end"]),
                        "RSS <= %s MiB, fds <= %s, end <= start + %s"
                        % (
                            r.get("rss_ceiling_mib", "-"),
                            r.get("fd_ceiling", "-"),
                            r.get("fd_slack_end", "-"),
                        ),
                        "%.0f / %.0f" % (r["cpu_mean"], r["cpu_peak"]),
                    )
                    for r in res
                ],
            )
        )
        from . import resources

        parts.append("\n```\n" + resources.__doc__.strip() + "\n```")
    logs = summary.get("logs")
    if logs:
        parts.append("\n## Process logs\n")
        parts.append(
            _table(
                ["log", "tracebacks", "errors", "warnings"],
                [
                    (k, v["counts"]["traceback"], v["counts"]["error"], v["counts"]["warning"])
                    for k, v in logs.items()
                ],
            )
        )
        for name, v in logs.items():
            if v["top"]:
                parts.append(
                    "\n`%s`, most frequent (numbers as N):\n```\n%s\n```"
                    % (name, "\n".join("%6d  %s" % (n, text) for text, n in v["top"]))
                )
    if summary.get("error"):
        parts.append("\n## The run broke\n\n```\n%s\n```" % summary["error"])
    parts.append(
        "\n## Configuration\n\n```json\n%s\n```\n" % json.dumps(summary["config"], indent=1)
    )
    return "\n".join(parts) + "\n"
