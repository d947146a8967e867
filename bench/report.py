"""The markdown table and the PNG plots of a benchmark run (bench/run.py)."""

import statistics

from bench import hist

MB = 2**20


def _f(v, digits=1, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float) and abs(v) >= 1000:
        return "{:,.0f}{}".format(v, unit)
    return "{:,.{d}f}{u}".format(v, d=digits, u=unit)


def _ratio(a, b):
    if a is None or b is None or not b:
        return "-"
    r = a / b
    return ("%.2fx" % r) if r < 10 else ("%.0fx" % r)


def _flags(rec):
    return "; ".join(rec.get("flags") or [])


def one_line(rec):
    """A short summary of one record, for the log."""
    sc = rec["scenario"]
    if rec.get("skipped"):
        return "%s %s: skipped: %s" % (sc, rec["server"], _flags(rec))
    if sc in ("fanout", "scaleout", "delivery", "deflate", "profile"):
        lat = rec["latency_ms"]
        cpu = rec["cpu"]
        return (
            "%s %s: p50 %s p99 %s ms, %s deliveries/s, lost %d, server %s%% of a core "
            "(%s us/delivery), generator max %s%%%s"
            % (
                sc,
                rec["server"],
                _f(lat["p50"]),
                _f(lat["p99"]),
                _f(rec["delivered_per_s"], 0),
                rec["deliveries"]["lost"],
                _f(cpu["server_core_pct"], 0),
                _f(cpu["server_us_per_delivery"], 0),
                _f(cpu["generator_max_core_pct"], 0),
                (" [" + _flags(rec) + "]") if rec["flags"] else "",
            )
        )
    if sc in ("ceiling", "scaleout-ceiling"):
        return "%s %s x%d: %s posts/s (first failing %s)%s" % (
            sc,
            rec["server"],
            rec["params"]["procs"],
            _f(rec["ceiling_rate"], 2),
            _f(rec["first_failing_rate"], 2),
            (" [" + _flags(rec) + "]") if rec["flags"] else "",
        )
    if sc == "ingest":
        return "ingest %s: %s acked posts/s, ack p50 %s p99 %s ms, server %s%% of a core%s" % (
            rec["server"],
            _f(rec["posts_per_s"], 0),
            _f(rec["ack_ms"]["p50"]),
            _f(rec["ack_ms"]["p99"]),
            _f(rec["cpu"]["server_core_pct"], 0),
            (" [" + _flags(rec) + "]") if rec["flags"] else "",
        )
    if sc == "storm":
        if rec.get("skipped"):
            return "storm %s: %s" % (rec["server"], _flags(rec))
        return (
            "storm %s: %d re-joined in %s s (p50 %s ms), online max %s per client, lost %d, dups %d%s"
            % (
                rec["server"],
                rec["rejoined"],
                _f(rec["all_joined_s"]),
                _f(rec["join_ms"]["p50"], 0),
                rec["online_events"]["max_per_client"],
                rec["deliveries"]["lost"],
                rec["deliveries"]["dups"],
                (" [" + _flags(rec) + "]") if rec["flags"] else "",
            )
        )
    if sc == "connections":
        return "connections %s: held %d, %s kB each (marginal %s)%s" % (
            rec["server"],
            rec["held"],
            _f(rec["kb_per_connection"]),
            _f(rec["kb_per_connection_marginal"]),
            (" [" + _flags(rec) + "]") if rec["flags"] else "",
        )
    if sc == "speedpage":
        med, ratios = rec["median_ms"], rec["ratios"]
        return (
            "speedpage %s: median Socket.IO/WebSocket %s ms, plain WebSocket %s ms, fetch %s ms: "
            "Socket.IO at %.2fx the plain WebSocket's round trip, %.1fx faster than fetch"
            % (
                rec["server"],
                _f(med["sio-ws"], 2),
                _f(med["ws"], 2),
                _f(med["fetch"], 2),
                ratios["sio_ws_over_ws"],
                ratios["fetch_over_sio_ws"],
            )
        )
    return "%s %s" % (sc, rec["server"])


def _by(records, scenario):
    return [r for r in records if r["scenario"] == scenario]


def _get(records, scenario, server, **params):
    for r in records:
        if (
            r["scenario"] == scenario
            and r["server"] == server
            and all(r["params"].get(k) == v for k, v in params.items())
        ):
            return r
    return None


def _servers(result):
    servers = list(result["meta"]["servers"])
    return servers


def _row(cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header, rows):
    out = [_row(header), _row(["---"] * len(header))]
    out += [_row(r) for r in rows]
    return "\n".join(out)


def summary_rows(result):
    """(scenario, metric, better, {server: value}) for the headline table."""
    recs = result["records"]
    servers = _servers(result)
    rows = []

    def add(scenario, metric, better, getter, rec_filter):
        values = {}
        for s in servers:
            rec = rec_filter(s)
            values[s] = getter(rec) if rec and not rec.get("skipped") else None
            if rec and rec.get("skipped"):
                values[s] = "n/a"
        if any(v is not None for v in values.values()):
            rows.append((scenario, metric, better, values))

    sizes = sorted({r["params"]["subscribers"] for r in _by(recs, "fanout")})
    for size in sizes:
        rate = next(
            r["params"]["rate"] for r in _by(recs, "fanout") if r["params"]["subscribers"] == size
        )
        name = "fan-out S=%s, %g posts/s" % ("{:,}".format(size), rate)

        def f(s, size=size):
            return _get(recs, "fanout", s, subscribers=size)

        add(name, "latency p50 (ms)", "lower", lambda r: r["latency_ms"]["p50"], f)
        add(name, "latency p99 (ms)", "lower", lambda r: r["latency_ms"]["p99"], f)
        add(
            name,
            "server CPU per delivery (us)",
            "lower",
            lambda r: r["cpu"]["server_us_per_delivery"],
            f,
        )
        add(name, "lost deliveries", "0", lambda r: r["deliveries"]["lost"], f)
    for r in _by(recs, "ceiling")[:1]:
        size = r["params"]["subscribers"]
        add(
            "fan-out ceiling S=%s" % "{:,}".format(size),
            "posts/s with p99 < %g ms" % r["params"]["p99_bound_ms"],
            "higher",
            lambda r: r["ceiling_rate"],
            lambda s: _get(recs, "ceiling", s),
        )
    add(
        "ingest, %d posting clients"
        % (_by(recs, "ingest")[0]["params"]["clients"] if _by(recs, "ingest") else 0),
        "acknowledged posts/s",
        "higher",
        lambda r: r["posts_per_s"],
        lambda s: _get(recs, "ingest", s, rate_limits=None),
    )
    add(
        "ingest",
        "server CPU per post (us)",
        "lower",
        lambda r: r["cpu"]["server_us_per_post"],
        lambda s: _get(recs, "ingest", s, rate_limits=None),
    )
    add(
        "ingest",
        "ack latency p99 (ms)",
        "lower",
        lambda r: r["ack_ms"]["p99"],
        lambda s: _get(recs, "ingest", s, rate_limits=None),
    )
    add(
        "ingest, rate limits on",
        "acknowledged posts/s",
        "higher",
        lambda r: r["posts_per_s"],
        lambda s: _get(recs, "ingest", s, rate_limits="on"),
    )
    add(
        "ingest, rate limits on",
        "server CPU per post (us)",
        "lower",
        lambda r: r["cpu"]["server_us_per_post"],
        lambda s: _get(recs, "ingest", s, rate_limits="on"),
    )
    add(
        "idle connections",
        "held by one process",
        "higher",
        lambda r: r["held"],
        lambda s: _get(recs, "connections", s),
    )
    add(
        "idle connections",
        "server memory per connection (kB)",
        "lower",
        lambda r: r["kb_per_connection"],
        lambda s: _get(recs, "connections", s),
    )
    for r in _by(recs, "storm")[:1]:
        name = "reconnect storm, %s clients on %d processes" % (
            "{:,}".format(r["params"]["clients"]),
            r["params"]["procs"],
        )

        def g(s):
            return _get(recs, "storm", s)

        add(name, "seconds until all re-joined", "lower", lambda r: r["all_joined_s"], g)
        add(name, "re-join p50 (ms)", "lower", lambda r: r["join_ms"]["p50"], g)
        add(
            name,
            "online events per client (max)",
            "lower",
            lambda r: r["online_events"]["max_per_client"],
            g,
        )
        add(
            name,
            "lost + doubled deliveries",
            "0",
            lambda r: r["deliveries"]["lost"] + r["deliveries"]["dups"],
            g,
        )
    for r in _by(recs, "speedpage")[:1]:
        name = "/speed page in Chromium, %s round trips per method" % "{:,}".format(
            r["params"]["rounds"]
        )

        def p(s):
            return _get(recs, "speedpage", s)

        for method, label in (
            ("sio-ws", "Socket.IO over WebSocket"),
            ("ws", "plain WebSocket"),
            ("fetch", "fetch"),
        ):
            add(name, "%s median (ms)" % label, "lower", lambda r, m=method: r["median_ms"][m], p)
        add(
            name,
            "Socket.IO / plain WebSocket round trip (target <= 1.2)",
            "lower",
            lambda r: "%.2fx" % r["ratios"]["sio_ws_over_ws"],
            p,
        )
        add(
            name,
            "fetch / Socket.IO round trip (target >= 5)",
            "higher",
            lambda r: "%.2fx" % r["ratios"]["fetch_over_sio_ws"],
            p,
        )
    for procs in (1, 2):

        def f(s, procs=procs):
            return _get(recs, "scaleout", s, procs=procs)

        recs_p = [r for r in _by(recs, "scaleout") if r["params"]["procs"] == procs]
        if recs_p:
            name = "scale-out %d process%s, S=%s, %g posts/s" % (
                procs,
                "es" if procs > 1 else "",
                "{:,}".format(recs_p[0]["params"]["subscribers"]),
                recs_p[0]["params"]["rate"],
            )
            add(name, "latency p50 (ms)", "lower", lambda r: r["latency_ms"]["p50"], f)
            add(name, "latency p99 (ms)", "lower", lambda r: r["latency_ms"]["p99"], f)

        def fc(s, procs=procs):
            return _get(recs, "scaleout-ceiling", s, procs=procs)

        add(
            "scale-out %d process%s" % (procs, "es" if procs > 1 else ""),
            "ceiling posts/s (p99 < 100 ms)",
            "higher",
            lambda r: r["ceiling_rate"],
            fc,
        )
    return rows


def markdown(result):
    meta = result["meta"]
    recs = result["records"]
    servers = _servers(result)
    others = [n for n in servers if n != "node"]
    out = []
    out.append(
        "# Wall benchmark %s (%s run)" % (meta["stamp"], "quick" if meta["quick"] else "full")
    )
    out.append("")
    out.append(
        "Machine: %s, %d cores, %s GB; Linux %s; Python %s, Node %s; Redis %s. "
        "Repository at %s. Clients offer permessage-deflate: %s. Run took %.0f s."
        % (
            meta["cpu"],
            meta["cores"],
            meta["mem_gb"],
            meta["kernel"],
            meta["python"],
            meta["node"],
            meta["redis"],
            meta["git"],
            "yes" if meta["client_deflate"] else "no",
            meta.get("duration_s", 0),
        )
    )
    noise = _noise(recs)
    if noise:
        out.append("")
        out.append(
            "Other load on the machine during the measurements (CPU not used by the "
            "benchmark's processes, in %% of one core): median %.0f%%, max %.0f%%; "
            "load average %.2f at the start, %.2f at the end."
            % (noise[0], noise[1], meta["loadavg_start"][0], meta["loadavg_end"][0])
        )
    out.append("")
    header = (
        ["scenario", "metric", "better"]
        + servers
        + ["%s/node" % o for o in others if "node" in servers]
    )
    rows = []
    for scenario, metric, better, values in summary_rows(result):
        row = [scenario, metric, better]
        for s in servers:
            v = values.get(s)
            row.append(
                v
                if isinstance(v, str)
                else _f(v, 0 if metric.startswith("lost") or "held" in metric else 1)
            )
        if "node" in servers:
            for o in others:
                a, b = values.get(o), values.get("node")
                row.append(
                    _ratio(a, b) if not isinstance(a, str) and not isinstance(b, str) else "-"
                )
        rows.append(row)
    if rows:
        out += ["## Summary", "", _table(header, rows)]

    if _by(recs, "delivery"):
        out.append("")
        out.append("## Stream delivery vs pub/sub delivery (the wall, eventlet)")
        out.append("")
        out.append(_delivery_table(recs))

    if _by(recs, "deflate"):
        out.append("")
        out.append(
            "## Clients that offer permessage-deflate vs clients that do not (the wall, eventlet)"
        )
        out.append("")
        out.append(_deflate_table(recs))

    for title, scenario in (
        ("Fan-out", "fanout"),
        ("Scale-out", "scaleout"),
        ("Profile run", "profile"),
    ):
        rs = _by(recs, scenario)
        if rs:
            out.append("")
            out.append("## %s" % title)
            out.append("")
            out.append(_fanout_table(rs))
    for scenario in ("ceiling", "scaleout-ceiling"):
        rs = _by(recs, scenario)
        if rs:
            out.append("")
            out.append(
                "## %s search (p99 bound %g ms)"
                % (
                    "Fan-out ceiling" if scenario == "ceiling" else "Scale-out ceiling",
                    rs[0]["params"]["p99_bound_ms"],
                )
            )
            out.append("")
            out.append(_ceiling_table(rs))
    if _by(recs, "ingest"):
        out.append("")
        out.append("## Ingest")
        out.append("")
        out.append(_ingest_table(_by(recs, "ingest")))
    if _by(recs, "storm"):
        out.append("")
        out.append("## Reconnect storm")
        out.append("")
        out.append(_storm_table(_by(recs, "storm")))
    if _by(recs, "speedpage"):
        out.append("")
        out.append("## The /speed page (headless Chromium, rate limits on as shipped)")
        out.append("")
        out.append(_speedpage_table(_by(recs, "speedpage")))
    if _by(recs, "connections"):
        out.append("")
        out.append("## Idle connections")
        out.append("")
        out.append(_connections_table(_by(recs, "connections")))
    for r in recs:
        prof = r.get("profile")
        if not prof:
            continue
        out.append("")
        out.append(
            "## Profile of %s: %s (py-spy, %d samples, idle excluded; files %s)"
            % (
                r["server"],
                "fan-out S=%s at %g posts/s"
                % ("{:,}".format(r["params"]["subscribers"]), r["params"]["rate"])
                if r["scenario"] == "profile"
                else "ingest, %d posting clients" % r["params"]["clients"],
                prof["samples"],
                ", ".join(prof.get("files", [])),
            )
        )
        out.append("")
        out.append(
            _table(
                ["share", "self time by area"],
                [["%.1f%%" % (100 * a["share"]), a["frame"]] for a in prof["areas"][:8]],
            )
        )
        out.append("")
        out.append(
            _table(
                ["share", "self time by function"],
                [["%.1f%%" % (100 * a["share"]), "`%s`" % a["frame"]] for a in prof["self"][:12]],
            )
        )
    if _by(recs, "sharding"):
        from bench import sharding

        out.append("")
        out.append("## Many walls: one Redis against a three-master cluster (bench/sharding.py)")
        out.append("")
        out.append(sharding.markdown(_by(recs, "sharding")))
    if result.get("errors"):
        out.append("")
        out.append("## Errors")
        out.append("")
        for e in result["errors"]:
            out.append("- %s: %s" % (e["scenario"], e["error"]))
    out.append("")
    out.append(
        "Latency is post -> delivery, from the poster's send to the subscriber's receipt "
        "(both timed with CLOCK_MONOTONIC), over every delivery of the measured window. "
        "CPU is user+sys from /proc over the measured window (posting and draining); "
        '"others" is CPU used on the machine by processes that are not the '
        "benchmark's. A generator process above %d%% of a core is flagged." % 90
    )
    return "\n".join(out) + "\n"


def _noise(recs):
    vals = []
    for r in recs:
        if "machine" in r:
            vals.append(r["machine"]["others_core_pct"])
        for s in r.get("steps") or []:
            vals.append(s["machine"]["others_core_pct"])
    if not vals:
        return None
    return statistics.median(vals), max(vals)


def _fanout_table(rs):
    header = [
        "server",
        "procs",
        "S",
        "posts/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "deliveries/s",
        "lost",
        "server CPU %",
        "us/delivery",
        "server RSS MB",
        "kB/subscriber",
        "Redis CPU %",
        "generator CPU % (max proc)",
        "others %",
        "server waited for a CPU %",
        "flags",
    ]
    rows = []
    for r in rs:
        p = r["params"]
        if r.get("skipped"):
            rows.append(
                [r["server"], p.get("procs", 1), p["subscribers"], p.get("rate", "-")]
                + ["-"] * 14
                + [_flags(r)]
            )
            continue
        lat, cpu = r["latency_ms"], r["cpu"]
        rows.append(
            [
                r["server"],
                p.get("procs", 1),
                "{:,}".format(p["subscribers"]),
                _f(r["rate"]),
                _f(lat["p50"]),
                _f(lat["p95"]),
                _f(lat["p99"]),
                _f(lat["max"]),
                _f(r["delivered_per_s"], 0),
                r["deliveries"]["lost"],
                _f(cpu["server_core_pct"], 0),
                _f(cpu["server_us_per_delivery"]),
                _f(r["server_rss"] / MB, 0),
                _f(r.get("kb_per_subscriber"), 0),
                _f(cpu["redis_core_pct"], 1),
                "%s (%s)"
                % (_f(cpu["generator_core_pct"], 0), _f(cpu["generator_max_core_pct"], 0)),
                _f(r["machine"]["others_core_pct"], 0),
                _f(cpu.get("server_runq_wait_pct"), 0),
                _flags(r),
            ]
        )
    if not any(r.get("cpu", {}).get("server_runq_wait_pct") is not None for r in rs):
        i = header.index("server waited for a CPU %")  # not measured by older runs
        header.pop(i)
        for row in rows:
            row.pop(i)
    return _table(header, rows)


def _ceiling_table(rs):
    header = [
        "server",
        "procs",
        "S",
        "ceiling posts/s",
        "first failing",
        "trials (posts/s: p99 ms)",
        "at ceiling: server CPU %",
        "us/delivery",
        "flags",
    ]
    rows = []
    for r in rs:
        p = r["params"]
        if r.get("skipped"):
            rows.append(
                [r["server"], p["procs"], p["subscribers"], "-", "-", "-", "-", "-", _flags(r)]
            )
            continue
        trials = ", ".join(
            "%g: %s%s" % (s["rate"], _f(s["latency_ms"]["p99"], 0), "" if s["passed"] else "x")
            for s in r["steps"]
        )
        best = r.get("at_ceiling")
        rows.append(
            [
                r["server"],
                p["procs"],
                "{:,}".format(p["subscribers"]),
                _f(r["ceiling_rate"], 2),
                _f(r["first_failing_rate"], 2),
                trials,
                _f(best["cpu"]["server_core_pct"], 0) if best else "-",
                _f(best["cpu"]["server_us_per_delivery"]) if best else "-",
                _flags(r),
            ]
        )
    return _table(header, rows) + "\n\n(x: failed: p99 over the bound, or a delivery missing)"


def _speedpage_table(rs):
    from bench.speedpage import METHODS

    header = ["server", "run"] + ["%s median / p95 ms, round trips/s, bytes" % m for m in METHODS]
    rows = []
    for r in rs:
        for number, run in enumerate(r["runs"], 1):
            rows.append(
                [r["server"], number]
                + [
                    "%s / %s, %s, %s"
                    % (
                        _f(run[m]["median"], 2),
                        _f(run[m]["p95"], 2),
                        _f(run[m]["rps"], 0),
                        _f(run[m]["bytes"], 0),
                    )
                    for m in METHODS
                ]
            )
    return _table(header, rows)


def _storm_table(rs):
    header = [
        "server",
        "clients",
        "processes",
        "re-joined",
        "all re-joined (s)",
        "re-joins/s",
        "re-join p50 / p99 (ms)",
        "online events per client (mean / max)",
        "posts acked",
        "lost / doubled / out of order",
        "server CPU s",
        "others %",
        "flags",
    ]
    rows = []
    for r in rs:
        if r.get("skipped"):
            rows.append(
                [r["server"], r["params"]["clients"], r["params"]["procs"]]
                + ["-"] * 9
                + [_flags(r)]
            )
            continue
        d = r["deliveries"]
        rows.append(
            [
                r["server"],
                r["params"]["clients"],
                r["params"]["procs"],
                r["rejoined"],
                _f(r["all_joined_s"]),
                _f(r["rejoins_per_s"], 0),
                "%s / %s" % (_f(r["join_ms"]["p50"], 0), _f(r["join_ms"]["p99"], 0)),
                "%s / %s"
                % (_f(r["online_events"]["mean_per_client"]), r["online_events"]["max_per_client"]),
                r["posts"]["acked"],
                "%d / %d / %d" % (d["lost"], d["dups"], d["order_violations"]),
                _f(r["server_cpu_s"]),
                _f(r["machine"]["others_core_pct"], 0),
                _flags(r),
            ]
        )
    return _table(header, rows)


def _ingest_table(rs):
    header = [
        "server",
        "rate limits",
        "clients",
        "acked posts/s",
        "ack p50 ms",
        "ack p99 ms",
        "errors",
        "server CPU %",
        "us/post",
        "Redis CPU %",
        "generator CPU % (max proc)",
        "server RSS MB",
        "others %",
        "flags",
    ]
    rows = []
    for r in rs:
        cpu = r["cpu"]
        rows.append(
            [
                r["server"],
                r["params"].get("rate_limits", "off"),
                r["params"]["clients"],
                _f(r["posts_per_s"], 0),
                _f(r["ack_ms"]["p50"]),
                _f(r["ack_ms"]["p99"]),
                r["errors"],
                _f(cpu["server_core_pct"], 0),
                _f(cpu["server_us_per_post"]),
                _f(cpu["redis_core_pct"], 0),
                "%s (%s)"
                % (_f(cpu["generator_core_pct"], 0), _f(cpu["generator_max_core_pct"], 0)),
                _f(r["server_rss"] / MB, 0),
                _f(r["machine"]["others_core_pct"], 0),
                _flags(r),
            ]
        )
    return _table(header, rows)


def _connections_table(rs):
    header = [
        "server",
        "held",
        "RSS at start MB",
        "RSS at each step (held: MB)",
        "kB per connection",
        "kB marginal",
        "connects/s",
        "flags",
    ]
    rows = []
    for r in rs:
        steps = ", ".join("%d: %.0f" % (p["held"], p["server_rss"] / MB) for p in r["points"])
        rates = ", ".join(_f(p["connects_per_s"], 0) for p in r["points"])
        rows.append(
            [
                r["server"],
                r["held"],
                _f(r["base_rss"] / MB, 0),
                steps,
                _f(r["kb_per_connection"]),
                _f(r["kb_per_connection_marginal"]),
                rates,
                _flags(r),
            ]
        )
    return _table(header, rows)


def _pair_table(rs, key, labels, first_col):
    """Alternating runs of two variants: each run, the medians, the difference."""
    header = [
        first_col,
        "run",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "server CPU %",
        "us/delivery",
        "kB/subscriber",
        "Redis CPU %",
        "generator CPU % (max proc)",
        "lost",
        "others %",
        "flags",
    ]
    rows = []
    for r in rs:
        if r.get("skipped"):
            continue
        lat, cpu = r["latency_ms"], r["cpu"]
        rows.append(
            [
                labels[r["params"][key]],
                r["params"]["repeat"] + 1,
                _f(lat["p50"]),
                _f(lat["p95"]),
                _f(lat["p99"]),
                _f(cpu["server_core_pct"], 0),
                _f(cpu["server_us_per_delivery"]),
                _f(r.get("kb_per_subscriber"), 0),
                _f(cpu["redis_core_pct"]),
                "%s (%s)"
                % (_f(cpu["generator_core_pct"], 0), _f(cpu["generator_max_core_pct"], 0)),
                r["deliveries"]["lost"],
                _f(r["machine"]["others_core_pct"], 0),
                _flags(r),
            ]
        )
    med = {}
    for value, label in labels.items():
        m = [r for r in rs if r["params"][key] == value and not r.get("skipped")]
        if m:
            med[value] = {
                k: statistics.median(f(r) for r in m)
                for k, f in (
                    ("p50", lambda r: r["latency_ms"]["p50"]),
                    ("p99", lambda r: r["latency_ms"]["p99"]),
                    ("us", lambda r: r["cpu"]["server_us_per_delivery"]),
                    ("gen", lambda r: r["cpu"]["generator_core_pct"]),
                )
            }
            rows.append(
                [
                    label,
                    "median",
                    _f(med[value]["p50"]),
                    "",
                    _f(med[value]["p99"]),
                    "",
                    _f(med[value]["us"]),
                    "",
                    "",
                    _f(med[value]["gen"], 0),
                    "",
                    "",
                    "",
                ]
            )
    text = _table(header, rows)
    values = list(labels)
    complete = len(med) == 2 and all(
        v is not None for m in med.values() for v in (m["p50"], m["p99"], m["us"])
    )
    if complete:
        a, b = med[values[0]], med[values[1]]
        text += (
            "\n\n%s minus %s (medians): p50 %+.1f ms, p99 %+.1f ms, "
            "server CPU %+.1f us per delivery (%s)."
            % (
                labels[values[0]],
                labels[values[1]],
                a["p50"] - b["p50"],
                a["p99"] - b["p99"],
                a["us"] - b["us"],
                _ratio(a["us"], b["us"]),
            )
        )
    params = rs[0]["params"] if rs else {}
    text += "\n\nS=%s subscribers, %s posts/s." % (
        "{:,}".format(params.get("subscribers", 0)),
        params.get("rate"),
    )
    return text


def _delivery_table(recs):
    return _pair_table(
        _by(recs, "delivery"), "delivery", {"stream": "stream", "pubsub": "pubsub"}, "delivery"
    )


def _deflate_table(recs):
    return _pair_table(
        _by(recs, "deflate"),
        "client_deflate",
        {True: "offered", False: "not offered"},
        "permessage-deflate",
    )


# -- plots ---------------------------------------------------------------------------


def plots(result, base):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    recs = result["records"]
    servers = _servers(result)
    colors = {
        "wall": "#d62728",
        "node": "#1f77b4",
        "wall-gevent": "#ff7f0e",
        "wall-pubsub": "#9467bd",
    }
    written = []

    def save(fig, name):
        path = "%s-%s.png" % (base, name)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    fan = [r for r in _by(recs, "fanout") if not r.get("skipped")]
    if fan:
        sizes = sorted({r["params"]["subscribers"] for r in _by(recs, "fanout")})
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        width = 0.8 / max(1, len(servers))
        for i, s in enumerate(servers):
            p50 = [
                (_get(recs, "fanout", s, subscribers=n) or {}).get("latency_ms", {}).get("p50")
                for n in sizes
            ]
            p99 = [
                (_get(recs, "fanout", s, subscribers=n) or {}).get("latency_ms", {}).get("p99")
                for n in sizes
            ]
            xs = [k + i * width for k in range(len(sizes))]
            axes[0].bar(
                xs,
                [v or 0 for v in p99],
                width,
                color=colors.get(s),
                alpha=0.35,
                label="%s p99" % s,
            )
            axes[0].bar(xs, [v or 0 for v in p50], width, color=colors.get(s), label="%s p50" % s)
            cpu = [
                ((_get(recs, "fanout", s, subscribers=n) or {}).get("cpu") or {}).get(
                    "server_us_per_delivery"
                )
                for n in sizes
            ]
            axes[1].bar(xs, [v or 0 for v in cpu], width, color=colors.get(s), label=s)
            for x, v in zip(xs, p99):
                if v is None:
                    axes[0].text(x, 1, "n/a", ha="center", fontsize=8, rotation=90)
        for ax in axes:
            ax.set_xticks([k + width * (len(servers) - 1) / 2 for k in range(len(sizes))])
            ax.set_xticklabels(["S=%s" % "{:,}".format(n) for n in sizes])
            ax.legend(fontsize=8)
        axes[0].set_yscale("log")
        axes[0].set_ylabel("post -> delivery latency (ms, log)")
        axes[0].set_title("Fan-out at %g posts/s" % fan[0]["params"]["rate"])
        axes[1].set_ylabel("server CPU per delivery (us)")
        axes[1].set_title("Server CPU per delivery")
        save(fig, "fanout")

        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        styles = ["-", "--", ":", "-."]
        for k, n in enumerate(sizes):
            for s in servers:
                r = _get(recs, "fanout", s, subscribers=n)
                if not r or r.get("skipped") or not r.get("hist"):
                    continue
                xs, ys = _cdf(r["hist"])
                ax.plot(
                    xs,
                    ys,
                    styles[k % 4],
                    color=colors.get(s),
                    label="%s S=%s" % (s, "{:,}".format(n)),
                )
        ax.set_xscale("log")
        ax.set_xlabel("post -> delivery latency (ms, log)")
        ax.set_ylabel("fraction of deliveries")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title("Fan-out latency distribution")
        save(fig, "latency-cdf")

    scale = [r for r in _by(recs, "scaleout") if not r.get("skipped")]
    if scale:
        fig, ax = plt.subplots(figsize=(7.5, 4.2))
        labels, p50, p99, cols = [], [], [], []
        for r in scale:
            labels.append("%s x%d" % (r["server"], r["params"]["procs"]))
            p50.append(r["latency_ms"]["p50"])
            p99.append(r["latency_ms"]["p99"])
            cols.append(colors.get(r["server"]))
        xs = list(range(len(labels)))
        ax.bar([x - 0.2 for x in xs], p50, 0.4, color=cols, label="p50")
        ax.bar([x + 0.2 for x in xs], p99, 0.4, color=cols, alpha=0.4, label="p99")
        ax.set_xticks(xs)
        ax.set_xticklabels(labels)
        ax.set_yscale("log")
        ax.set_ylabel("post -> delivery latency (ms, log)")
        ax.set_title(
            "Scale-out: S=%s over 1 or 2 processes at %g posts/s"
            % ("{:,}".format(scale[0]["params"]["subscribers"]), scale[0]["params"]["rate"])
        )
        ax.legend(fontsize=8)
        save(fig, "scaleout")

    ceil = [
        r for r in recs if r["scenario"] in ("ceiling", "scaleout-ceiling") and not r.get("skipped")
    ]
    if ceil:
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        for r in ceil:
            pts = sorted(
                (s["rate"], s["latency_ms"]["p99"])
                for s in r["steps"]
                if s["latency_ms"]["p99"] is not None
            )
            if not pts:
                continue
            best = {}
            for rate, p99 in pts:  # a retried rate: the better trial
                best[rate] = min(p99, best.get(rate, p99))
            ls = "-" if r["params"]["procs"] == 1 else "--"
            marker = "o" if r["scenario"] == "ceiling" else "s"
            color = colors.get(r["server"])
            ax.scatter(
                [p[0] for p in pts],
                [p[1] for p in pts],
                color=color,
                marker=marker,
                alpha=0.35,
                s=18,
            )
            ax.plot(
                sorted(best),
                [best[k] for k in sorted(best)],
                ls,
                marker=marker,
                color=color,
                label="%s x%d%s: %g posts/s"
                % (
                    r["server"],
                    r["params"]["procs"],
                    "" if r["scenario"] == "ceiling" else " (scale-out run)",
                    r["ceiling_rate"],
                ),
            )
        ax.axhline(ceil[0]["params"]["p99_bound_ms"], color="grey", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(
            "posts/s to %s subscribers (log)" % "{:,}".format(ceil[0]["params"]["subscribers"])
        )
        ax.set_ylabel("p99 latency (ms, log)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title("Fan-out ceiling search")
        save(fig, "ceiling")

    conns = _by(recs, "connections")
    ing = _by(recs, "ingest")
    dlv = [r for r in _by(recs, "delivery") if not r.get("skipped")]
    dfl = [r for r in _by(recs, "deflate") if not r.get("skipped")]
    panels = [
        p for p in (conns and "conn", ing and "ingest", dlv and "delivery", dfl and "deflate") if p
    ]
    if panels:
        fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.2))
        axes = [axes] if len(panels) == 1 else list(axes)
        for ax, panel in zip(axes, panels):
            if panel == "conn":
                for r in conns:
                    xs = [0] + [p["held"] for p in r["points"]]
                    ys = [r["base_rss"] / MB] + [p["server_rss"] / MB for p in r["points"]]
                    ax.plot(
                        xs,
                        ys,
                        marker="o",
                        color=colors.get(r["server"]),
                        label="%s (%s kB/conn)" % (r["server"], _f(r["kb_per_connection"])),
                    )
                ax.set_xlabel("idle connections held")
                ax.set_ylabel("server RSS (MB)")
                ax.set_title("Idle connections")
                ax.grid(alpha=0.3)
                ax.legend(fontsize=8)
            elif panel == "ingest":
                names = [r["server"] for r in ing]
                ax.bar(names, [r["posts_per_s"] for r in ing], color=[colors.get(n) for n in names])
                ax.set_ylabel("acknowledged posts/s")
                ax.set_title("Ingest, %d posting clients" % ing[0]["params"]["clients"])
            elif panel == "deflate":
                offers = [True, False]
                us = [
                    statistics.median(
                        r["cpu"]["server_us_per_delivery"]
                        for r in dfl
                        if r["params"]["client_deflate"] == o
                    )
                    for o in offers
                ]
                kb = [
                    statistics.median(
                        r["kb_per_subscriber"] or 0
                        for r in dfl
                        if r["params"]["client_deflate"] == o
                    )
                    for o in offers
                ]
                xs = range(2)
                ax.bar(
                    [x - 0.2 for x in xs],
                    us,
                    0.4,
                    label="server CPU per delivery (us)",
                    color="#d62728",
                )
                ax.bar(
                    [x + 0.2 for x in xs],
                    kb,
                    0.4,
                    label="server memory per socket (kB)",
                    color="#7f7f7f",
                )
                ax.set_xticks(list(xs))
                ax.set_xticklabels(["deflate offered", "not offered"])
                ax.set_title(
                    "The wall and permessage-deflate, S=%s"
                    % "{:,}".format(dfl[0]["params"]["subscribers"])
                )
                ax.legend(fontsize=8)
            else:
                modes = ["stream", "pubsub"]
                p50 = [
                    statistics.median(
                        r["latency_ms"]["p50"] for r in dlv if r["params"]["delivery"] == m
                    )
                    for m in modes
                ]
                p99 = [
                    statistics.median(
                        r["latency_ms"]["p99"] for r in dlv if r["params"]["delivery"] == m
                    )
                    for m in modes
                ]
                xs = range(len(modes))
                ax.bar([x - 0.2 for x in xs], p50, 0.4, label="p50", color="#d62728")
                ax.bar([x + 0.2 for x in xs], p99, 0.4, label="p99", color="#d62728", alpha=0.4)
                ax.set_xticks(list(xs))
                ax.set_xticklabels(["%s delivery" % m for m in modes])
                ax.set_ylabel("latency (ms)")
                ax.set_title(
                    "Stream vs pub/sub, S=%s" % "{:,}".format(dlv[0]["params"]["subscribers"])
                )
                ax.legend(fontsize=8)
        save(fig, "ingest-connections-delivery")
    return written


def _cdf(h):
    h = hist.merge([h])
    total = h["n"]
    xs, ys, seen = [], [], 0
    for b in sorted(h["buckets"]):
        seen += h["buckets"][b]
        xs.append(min(h["base"] ** b, h["max"]) / 1000.0)
        ys.append(seen / total)
    return xs, ys
