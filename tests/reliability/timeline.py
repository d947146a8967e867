"""Per-second counters and latency histograms, kept by each client process and merged.

A :class:`Timeline` counts named events per whole second of the run
(``sent``, ``acked``, ``delivered``...) and keeps one latency histogram per
second (``delivery``: from the post's stream time to its arrival at a
client). Histograms have log-spaced bins (15 % wide), so they merge by
adding counts and a percentile is exact to within one bin.
"""

import math
from collections import defaultdict

GROWTH = 1.15  # each bin is 15 % wider than the one before
BINS = 110  # 1 ms .. about 4.6e6 ms


def bin_of(ms):
    """The histogram bin of a latency in milliseconds (below 1 ms: bin 0)."""
    if ms < 1:
        return 0
    return min(BINS - 1, 1 + int(math.log(ms) / math.log(GROWTH)))


def bin_ms(index):
    """A representative latency of a bin: its geometric middle, in milliseconds."""
    if index == 0:
        return 0.5
    return GROWTH ** (index - 0.5)


def percentile(hist, q):
    """The ``q`` quantile (0..1) of a histogram ``{bin: count}``, in ms, or None if empty."""
    total = sum(hist.values())
    if not total:
        return None
    rank = q * total
    seen = 0
    for index in sorted(hist):
        seen += hist[index]
        if seen >= rank:
            return bin_ms(index)
    return bin_ms(max(hist))


def merge_hist(into, other):
    for index, count in other.items():
        into[int(index)] = into.get(int(index), 0) + count
    return into


class Timeline:
    """Counts and histograms per second since ``t0`` (a ``time.time()``)."""

    def __init__(self, t0=None):
        self.t0 = t0
        self.counts = defaultdict(lambda: defaultdict(int))  # name -> second -> n
        self.hists = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))

    def second(self, now):
        return int(now - self.t0) if self.t0 is not None else 0

    def count(self, name, now, n=1):
        self.counts[name][self.second(now)] += n

    def latency(self, name, now, ms):
        self.hists[name][self.second(now)][bin_of(ms)] += 1

    def to_json(self):
        return {
            "counts": {k: dict(v) for k, v in self.counts.items()},
            "hists": {k: {s: dict(h) for s, h in v.items()} for k, v in self.hists.items()},
        }

    @classmethod
    def merged(cls, dumps):
        """One timeline from several :meth:`to_json` dumps (seconds as ints)."""
        out = cls(0)
        for dump in dumps:
            for name, per_second in dump["counts"].items():
                for second, n in per_second.items():
                    out.counts[name][int(second)] += n
            for name, per_second in dump["hists"].items():
                for second, hist in per_second.items():
                    merge_hist(out.hists[name][int(second)], hist)
        return out

    def total_hist(self, name):
        hist = {}
        for per_second in self.hists.get(name, {}).values():
            merge_hist(hist, per_second)
        return hist
