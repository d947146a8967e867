"""Before/after table of two benchmark runs, for docs/performance.md.

    .venv/bin/python -m bench.compare bench/reference/<before>.json bench/results/<after>.json
    .venv/bin/python -m bench.compare bench/reference/<before>.json   # after columns empty

Prints one markdown row per headline metric: the Node server (from each run),
the wall before and after, and each one's ratio to the Node server of its own
run (ratios taken within one run are what survives a noisy machine).
"""

import json
import sys

from bench import report


def _fmt(v, metric):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return report._f(v, 0 if metric.startswith("lost") or "held" in metric else 1)


def table(before, after, server="wall"):
    rows_b = {(s, m): (better, vals) for s, m, better, vals in report.summary_rows(before)}
    rows_a = (
        {(s, m): (better, vals) for s, m, better, vals in report.summary_rows(after)}
        if after
        else {}
    )
    keys = list(rows_b) + [k for k in rows_a if k not in rows_b]
    header = [
        "scenario",
        "metric",
        "better",
        "Node (before run)",
        "wall before",
        "before/Node",
        "Node (after run)",
        "wall after",
        "after/Node",
    ]
    out = [report._row(header), report._row(["---"] * len(header))]
    for key in keys:
        better, vb = rows_b.get(key, (None, {}))
        better_a, va = rows_a.get(key, (None, {}))
        better = better or better_a
        nb, wb = vb.get("node"), vb.get(server)
        na, wa = va.get("node"), va.get(server)

        def ratio(a, b):
            return "-" if isinstance(a, str) or isinstance(b, str) else report._ratio(a, b)

        out.append(
            report._row(
                [
                    key[0],
                    key[1],
                    better,
                    _fmt(nb, key[1]),
                    _fmt(wb, key[1]),
                    ratio(wb, nb),
                    _fmt(na, key[1]),
                    _fmt(wa, key[1]),
                    ratio(wa, na) if after else "-",
                ]
            )
        )
    return "\n".join(out) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        before = json.load(f)
    after = None
    if len(argv) == 2:
        with open(argv[1]) as f:
            after = json.load(f)
    sys.stdout.write(table(before, after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
