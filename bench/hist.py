"""Latency histograms from the load generator (log buckets, 2 % wide, in us)."""

import math


def merge(hists):
    """One histogram from several (as sent by bench/loadgen/worker.js)."""
    out = {"base": 1.02, "unit": "us", "n": 0, "sum": 0.0, "max": 0.0, "buckets": {}}
    for h in hists:
        if not h:
            continue
        out["n"] += h["n"]
        out["sum"] += h["sum"]
        out["max"] = max(out["max"], h["max"])
        for b, c in h["buckets"].items():
            out["buckets"][int(b)] = out["buckets"].get(int(b), 0) + c
    return out


def percentile(h, p):
    """The ``p``-th percentile (0-100) in milliseconds, or None when empty."""
    if not h or not h["n"]:
        return None
    h = merge([h])
    rank = math.ceil(h["n"] * p / 100.0)
    seen = 0
    for b in sorted(h["buckets"]):
        seen += h["buckets"][b]
        if seen >= rank:
            # upper edge of the bucket, capped by the largest value seen
            return min(h["base"] ** b, h["max"]) / 1000.0
    return h["max"] / 1000.0


def summary(h):
    """p50/p95/p99/max/mean in ms."""
    if not h or not h["n"]:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    return {
        "n": h["n"],
        "p50": percentile(h, 50),
        "p95": percentile(h, 95),
        "p99": percentile(h, 99),
        "max": h["max"] / 1000.0,
        "mean": h["sum"] / h["n"] / 1000.0,
    }


def compact(h):
    """The histogram with string keys (JSON), kept in the results for replotting."""
    if not h:
        return None
    return {**h, "buckets": {str(k): v for k, v in sorted(h["buckets"].items())}}
