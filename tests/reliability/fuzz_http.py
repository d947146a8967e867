"""The fuzz run's HTTP part: schemathesis against ``/api/openapi.json``, as a library.

Every operation of the document gets cases in schemathesis' positive mode
(schema-valid requests) and, where it has parameters or a body, its
negative mode (schema-invalid ones), round after round with seeds derived
from ``FUZZ_SEED``, until the quota of cases is spent. Each case is one
input of the run. A case fails on:

- a 5xx, or traceback text in the reply (``fuzz_wire.leak``);
- schemathesis' conformance checks: the status is one the document lists,
  the content type and the body's JSON schema are the documented ones (the
  document must be true).

schemathesis' ``positive_data_acceptance`` and ``negative_data_rejection``
are not failures here: the API is lenient on purpose (unknown fields are
ignored, wall names are trimmed and case-folded, ``before`` with ``after``
is a 400 no schema can state), so their findings are counted and
shown as notes.
"""

import threading
import time

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from . import fuzz_wire as wire

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
NOTES = [positive_data_acceptance, negative_data_rejection]
ROUND = 60  # at most this many cases per operation and mode in one round


class Quota(Exception):
    """The quota is spent (raised inside hypothesis to end a run)."""


class HttpFuzz:
    """Runs in a thread of its own; ``done`` counts cases sent.

    :param on_failure: called with ``(what, detail)`` for each failing case.
    :param admin_token: the server's ``WALL_ADMIN_TOKEN``: half of the
        DELETEs carry it, so that moderation's every answer is reached.
    """

    def __init__(self, base_url, quota, run_seed, on_failure, admin_token, stop):
        self.base_url = base_url
        self.quota = quota
        self.seed = run_seed
        self.on_failure = on_failure
        self.admin_token = admin_token
        self.stop = stop
        self.done = 0
        self.statuses = {}
        self.by_operation = {}
        self.notes = {}
        self.note_examples = {}
        self.rounds = 0
        self.error = None
        self.lock = threading.Lock()
        self.shared_done = None  # a multiprocessing.Value the parent reads, in a process

    def run(self):
        try:
            self._run()
        except BaseException as exc:  # reported by the runner, not lost in the thread
            self.error = "%s: %s" % (type(exc).__name__, exc)

    def _run(self):
        schema = schemathesis.openapi.from_url(self.base_url + "/api/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        plans = []
        for op in operations:
            plans.append((op, GenerationMode.POSITIVE))
            if op.path_parameters or op.query or op.headers or op.body:
                plans.append((op, GenerationMode.NEGATIVE))
        session = requests.Session()
        # every operation gets its share in the first round, however small the quota
        examples = max(5, min(ROUND, self.quota // max(1, len(plans))))
        while self.done < self.quota and not self.stop.is_set():
            progressed = self.done
            for i, (op, mode) in enumerate(plans):
                if self.done >= self.quota or self.stop.is_set():
                    break
                self._one(op, mode, session, (self.seed, self.rounds, i), examples)
            self.rounds += 1
            if self.done == progressed:
                break  # nothing left to generate

    def _one(self, op, mode, session, round_seed, examples):
        fuzz = self
        label = "%s %s %s" % (op.method.upper(), op.path, mode.value)

        @seed(hash(round_seed) & 0xFFFFFFFF)
        @settings(
            max_examples=examples,
            database=None,
            deadline=None,
            derandomize=False,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy(generation_mode=mode))
        def test(case):
            if fuzz.done >= fuzz.quota or fuzz.stop.is_set():
                raise Quota()
            fuzz.case(case, session, label)

        try:
            test()
        except Quota:
            pass
        except BaseException as exc:
            if type(exc).__name__ in ("Unsatisfiable", "FailedHealthCheck"):
                return
            raise

    def case(self, case, session, label):
        headers = {}
        if case.operation.method.lower() == "delete" and self.done % 2:
            headers["Authorization"] = "Bearer " + self.admin_token
        started = time.monotonic()
        try:
            response = case.call(
                base_url=self.base_url, session=session, headers=headers, timeout=10
            )
        except requests.RequestException as exc:
            self._count(label, "error")
            self.on_failure(
                "HTTP request failed: %s" % exc, "%s\n    %s" % (label, case.as_curl_command())
            )
            return
        elapsed = time.monotonic() - started
        self._count(label, response.status_code)
        sent = " ".join(
            str(x) for x in (case.path_parameters, case.query, case.body, case.headers) if x
        )
        found = wire.leak(response.content)
        if found and found not in sent:
            self.on_failure(
                "traceback text %r in an HTTP reply" % found, self._detail(case, response, label)
            )
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            titles = "; ".join(sorted({f.title for f in group.exceptions}))
            self.on_failure(
                "schemathesis: %s" % titles, self._detail(case, response, label, str(group))
            )
        try:
            case.validate_response(response, checks=NOTES, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                with self.lock:
                    self.notes[failure.title] = self.notes.get(failure.title, 0) + 1
                    examples = self.note_examples.setdefault(failure.title, [])
                    if len(examples) < 3:
                        examples.append(
                            "%s -> %d: %s" % (label, response.status_code, case.as_curl_command())
                        )
        if elapsed > 5:
            self.on_failure("HTTP reply took %.1f s" % elapsed, self._detail(case, response, label))

    def _count(self, label, status):
        with self.lock:
            self.done += 1
            if self.shared_done is not None:
                with self.shared_done.get_lock():
                    self.shared_done.value += 1
            key = str(status)
            self.statuses[key] = self.statuses.get(key, 0) + 1
            self.by_operation[label] = self.by_operation.get(label, 0) + 1

    def _detail(self, case, response, label, extra=""):
        body = response.content[:800]
        return "%s\n    reproduce: %s\n    reply %d: %r%s" % (
            label,
            case.as_curl_command(),
            response.status_code,
            body,
            ("\n    " + extra[:2000]) if extra else "",
        )

    def summary(self):
        return {
            "cases": self.done,
            "rounds": self.rounds,
            "statuses": dict(sorted(self.statuses.items())),
            "by_operation": dict(sorted(self.by_operation.items())),
            "notes (not failures)": self.notes,
            "note examples": self.note_examples,
            "error": self.error,
        }


# -- several processes ------------------------------------------------------------------------


def _process_main(base_url, quota, run_seed, admin_token, stop, shared_done, out):
    """One HTTP fuzzer in a process of its own; failures and the summary go to ``out``."""
    fuzz = HttpFuzz(
        base_url,
        quota,
        run_seed,
        lambda what, detail: out.put(("failure", what, detail)),
        admin_token,
        stop,
    )
    fuzz.shared_done = shared_done
    fuzz.run()
    out.put(("summary", fuzz.summary()))


class HttpPool:
    """``processes`` HTTP fuzzers at once, each with its share of the quota and a seed of
    its own: one client alone would wait on each reply while the socket workers keep
    the server busy. The same interface as :class:`HttpFuzz` for the runner."""

    def __init__(self, base_url, quota, run_seed, on_failure, admin_token, processes):
        import multiprocessing

        self.ctx = multiprocessing.get_context("spawn")
        self.on_failure = on_failure
        self.stop = self.ctx.Event()
        self.shared_done = self.ctx.Value("l", 0)
        self.out = self.ctx.Queue()
        self.summaries = []
        self.error = None
        shares = [
            quota // processes + (1 if i < quota % processes else 0) for i in range(processes)
        ]
        self.procs = [
            self.ctx.Process(
                target=_process_main,
                args=(
                    base_url,
                    share,
                    (run_seed, i),
                    admin_token,
                    self.stop,
                    self.shared_done,
                    self.out,
                ),
                name="http fuzz %d" % i,
                daemon=True,
            )
            for i, share in enumerate(shares)
            if share
        ]

    @property
    def done(self):
        return self.shared_done.value

    def start(self):
        for proc in self.procs:
            proc.start()

    def drain(self):
        """Hand the failures reported so far to ``on_failure``."""
        import queue

        while True:
            try:
                message = self.out.get_nowait()
            except queue.Empty:
                return
            if message[0] == "failure":
                self.on_failure(message[1], message[2])
            else:
                self.summaries.append(message[1])
                if message[1]["error"]:
                    self.error = message[1]["error"]

    def alive(self):
        self.drain()
        return any(proc.is_alive() for proc in self.procs)

    def finish(self):
        for proc in self.procs:
            proc.join(5)
        self.drain()
        dead = [p.exitcode for p in self.procs if p.exitcode not in (0, None)]
        if dead and not self.error:
            self.error = "an HTTP fuzz process exited with %s" % dead

    def summary(self):
        merged = {
            "cases": 0,
            "processes": len(self.procs),
            "rounds": 0,
            "statuses": {},
            "by_operation": {},
            "notes (not failures)": {},
            "note examples": {},
            "error": self.error,
        }
        for part in self.summaries:
            merged["cases"] += part["cases"]
            merged["rounds"] = max(merged["rounds"], part["rounds"])
            for key in ("statuses", "by_operation", "notes (not failures)"):
                for k, v in part[key].items():
                    merged[key][k] = merged[key].get(k, 0) + v
            for k, v in part["note examples"].items():
                merged["note examples"].setdefault(k, []).extend(
                    v[: 3 - len(merged["note examples"].get(k, []))]
                )
        for key in ("statuses", "by_operation"):
            merged[key] = dict(sorted(merged[key].items()))
        return merged
