"""Joins that arrive together share their Redis round trips.

After a deploy or a Wi-Fi drop, thousands of sockets re-join the same wall
within a second or two. Each join read its page and wrote the wall's online
count on its own: three or four round trips a socket, each holding one of
the process's pooled Redis connections while the process was busy with
thousands of handshakes, until joins waited past the pool's wait and were
refused (docs/performance.md, the reconnect storm). Here the calls of
overlapping joins are made once for all of them, as overlapping posts share
a pipeline in :mod:`wall.domain.post_batch`.

Two kinds, by what a caller may be given:

- :class:`Shared`: a call whose result depends only on its key (a page read
  up to a given stream id) is shared with every caller that asks for the
  same key while it runs.
- :class:`Batched`: a call that must see the caller's own change (writing
  the wall's online count after the socket counted itself) is shared only
  with callers that arrived before it started: who arrives while one runs
  waits for it, and then one call is made for everyone who waited.

A single call waits for nothing; each caller gets the result, or the error,
of the call it shared. Callers must not change what they are given.
"""

import threading


class _Call:
    __slots__ = ("done", "started", "result", "error", "finished")

    def __init__(self):
        self.done = threading.Event()
        #: Batched: a caller has started it
        self.started = False
        self.result = None
        self.error = None
        #: False if the call was cut short (the task running it was killed)
        self.finished = False

    def make(self, fn, args, lock, forget):
        """Make the call; then ``forget()`` it under ``lock`` and wake who shares it."""
        try:
            self.result = fn(*args)
            self.finished = True
        except Exception as exc:
            self.error = exc
            self.finished = True
        finally:
            with lock:
                forget()
            self.done.set()
        return self.outcome()

    def joined(self, fn, args):
        """The outcome of this call, made by another caller (here if it was killed)."""
        self.done.wait()
        if not self.finished:
            return fn(*args)
        return self.outcome()

    def outcome(self):
        if self.error is not None:
            raise self.error
        return self.result


class Shared:
    """Concurrent calls with equal keys make one call and get its result."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running = {}  # key -> _Call

    def call(self, key, fn, *args):
        """``fn(*args)``, or the result of the same key's call already running."""
        with self._lock:
            call = self._running.get(key)
            lead = call is None
            if lead:
                call = self._running[key] = _Call()
        if not lead:
            return call.joined(fn, args)
        return call.make(fn, args, self._lock, lambda: self._running.pop(key))

    def __len__(self):
        """Keys with a call running now (for tests)."""
        return len(self._running)


class Batched:
    """Calls with one key made one at a time; who waited shares the next call."""

    def __init__(self):
        self._lock = threading.Lock()
        self._keys = {}  # key -> _Key

    def call(self, key, fn, *args):
        """``fn(*args)``, started after this call was made; shared with the
        callers of the same key that arrived while the one before it ran."""
        with self._lock:
            state = self._keys.get(key)
            if state is None:
                call = _Call()
                call.started = True
                state = self._keys[key] = _Key(call)
                before = None
            else:
                call = state.next
                if call is None:
                    call = state.next = _Call()
                before = state.running
        if before is not None:
            before.done.wait()
            # Whoever of its callers wakes first makes the call (any of
            # them may have been killed meanwhile).
            with self._lock:
                lead = not call.started
                if lead:
                    call.started = True
                    state.running, state.next = call, None
            if not lead:
                return call.joined(fn, args)

        def forget():
            if state.next is None:
                del self._keys[key]

        return call.make(fn, args, self._lock, forget)

    def __len__(self):
        """Keys with a call running or waiting now (for tests)."""
        return len(self._keys)


class _Key:
    __slots__ = ("running", "next")

    def __init__(self, running):
        self.running = running
        self.next = None
