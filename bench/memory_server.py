"""app.py under tracemalloc, for bench/profile_memory.py.

tracemalloc starts before app.py imports and monkey-patches anything, so
every Python allocation of the server is traced. SIGUSR1 writes a snapshot
(unless ``WALL_MEMORY_FRAMES=0``, a run for untraced RSS) and a count of live greenlets and sockets to ``WALL_MEMORY_DUMP.<n>``; the
handler is installed before the async library patches ``signal``, so it is
Python's own and runs the next time the main thread runs Python code (the
profile pokes /healthz after the signal to make sure it does).
"""

import gc
import json
import os
import runpy
import signal
import socket
import sys
import tracemalloc

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
FRAMES = int(os.environ.get("WALL_MEMORY_FRAMES", "1"))  # 0: no tracing, counts only
if FRAMES:
    tracemalloc.start(FRAMES)
_dumps = [0]


def _dump(signum, frame):
    _dumps[0] += 1
    base = "%s.%d" % (os.environ["WALL_MEMORY_DUMP"], _dumps[0])
    gc.collect()
    counts = {"greenlets": 0, "sockets": 0}
    for obj in gc.get_objects():
        kind = type(obj)
        if kind.__name__ == "greenlet" or any(c.__name__ == "greenlet" for c in kind.__mro__):
            counts["greenlets"] += 1
        elif isinstance(obj, socket.socket):
            counts["sockets"] += 1
    if FRAMES:
        tracemalloc.take_snapshot().dump(base + ".snapshot")
    traced, peak = tracemalloc.get_traced_memory()
    counts.update(traced=traced, peak=peak)
    with open(base + ".json", "w") as f:
        json.dump(counts, f)


signal.signal(signal.SIGUSR1, _dump)
sys.argv = [os.path.join(HERE, "app.py")]
runpy.run_path(sys.argv[0], run_name="__main__")
