"""The soak's faults: their fixed order, and when each starts in a run of ``SOAK_S`` seconds.

After a warm-up, one fault starts every ``spacing`` seconds, in the order of
:data:`ORDER`, cycling: about every two minutes in a long run (30 min: 14
faults, every kind at least once, most twice). A short run compresses the
spacing so that all eight still happen (SOAK_S=120: one every 12.75 s). A
fault that overruns its slot delays the next by at least :data:`MIN_GAP_S`,
so two faults never overlap, and the run ends with a quiet tail in which
nothing is broken, so that the last fault's recovery is seen.
"""

from dataclasses import dataclass

#: the faults, in the order they run (names as the report shows them)
ORDER = (
    "redis-kill",  # SIGKILL, restart on the same port and AOF folder
    "redis-pause",  # SIGSTOP for PAUSE_S, then SIGCONT
    "kill-pubsub",  # CLIENT KILL TYPE pubsub
    "kill-normal",  # CLIENT KILL TYPE normal
    "worker-kill",  # one app process SIGKILLed, restarted on its port
    "rolling-restart",  # every app process SIGTERMed and restarted, one after the other
    "nginx-reload",  # nginx -s reload (SIGHUP)
    "burst",  # BURST_FACTOR times the post rate for burst_s
)

DESCRIPTIONS = {
    "redis-kill": "Redis kill -9, restarted on the same port and AOF folder after %(down)g s",
    "redis-pause": "Redis SIGSTOP for %(pause)g s, then SIGCONT",
    "kill-pubsub": "CLIENT KILL TYPE pubsub",
    "kill-normal": "CLIENT KILL TYPE normal",
    "worker-kill": "one app process kill -9, restarted on its port",
    "rolling-restart": "every app process SIGTERM + restart on its port, one after the other",
    "nginx-reload": "nginx -s reload (SIGHUP)",
    "burst": "%(factor)gx the post rate for %(burst)g s",
}

PAUSE_S = 10.0  # the 10 s, whatever the run's length
REDIS_DOWN_S = 2.0  # between the kill and the restart: posts meet a dead Redis
BURST_FACTOR = 10.0
MIN_GAP_S = 3.0
LONG_SPACING_S = 120.0


@dataclass(frozen=True)
class Plan:
    soak_s: float
    warmup_s: float
    tail_s: float
    spacing_s: float
    burst_s: float
    starts: tuple  # ((seconds after the soak's start, fault name), ...)

    def describe(self, name):
        return DESCRIPTIONS[name] % {
            "down": REDIS_DOWN_S,
            "pause": PAUSE_S,
            "factor": BURST_FACTOR,
            "burst": self.burst_s,
        }


def _clamp(x, low, high):
    return max(low, min(high, x))


def plan(soak_s):
    """The faults of a run of ``soak_s`` seconds (at least 60)."""
    if soak_s < 60:
        raise ValueError("SOAK_S must be at least 60 (all eight faults must fit)")
    warmup = _clamp(0.05 * soak_s, 8.0, 60.0)
    tail = _clamp(0.05 * soak_s, 10.0, 60.0)
    usable = soak_s - warmup - tail
    count = max(len(ORDER), int(usable // LONG_SPACING_S))
    spacing = usable / count
    burst = _clamp(0.5 * spacing, 5.0, 20.0)
    starts = tuple((warmup + i * spacing, ORDER[i % len(ORDER)]) for i in range(count))
    return Plan(soak_s, warmup, tail, spacing, burst, starts)
