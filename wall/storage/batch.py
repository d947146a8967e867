"""Calls that arrive together share one Redis round trip.

Sent one by one, every call costs its own write, wait and read, and under
load most of the server's time went into that I/O rather than into the
work. Here the first call to arrive is sent at once, alone, and whatever
arrives while it is on its way is sent next as one pipeline, and so on: a
single call waits for nothing, concurrent calls wait for at most one round
trip. Each call still gets its own result (or error), and nothing is
retried.

The task that sends a batch is one of the calling tasks. Once its own call
is answered it hands the next batch to the oldest waiting call's task, so
no caller waits for other people's batches.
"""

import threading


class _Waiting:
    __slots__ = ("item", "done", "result", "leads")

    def __init__(self, item):
        self.item = item
        self.done = threading.Event()
        self.result = None
        #: woken to send the next batch, not with a result
        self.leads = False


class Batch:
    """Sends items through ``send_one(item)`` alone, or ``send_many(items)`` together.

    ``send_many`` returns one result per item, an exception instance for an
    item that failed; an exception it raises fails the whole batch.
    """

    def __init__(self, send_one, send_many):
        self.send_one = send_one
        self.send_many = send_many
        self._lock = threading.Lock()
        self._queue = []
        self._sending = False

    def call(self, item):
        """The result of ``item``, sent alone or with the items that came meanwhile."""
        mine = _Waiting(item)
        with self._lock:
            self._queue.append(mine)
            lead = not self._sending
            self._sending = True
        if not lead:
            mine.done.wait()
        if lead or mine.leads:
            self._send_batch()
        if isinstance(mine.result, Exception):
            raise mine.result
        return mine.result

    def _send_batch(self):
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            if len(batch) == 1:
                try:
                    results = [self.send_one(batch[0].item)]
                except Exception as exc:
                    results = [exc]
            else:
                try:
                    results = self.send_many([w.item for w in batch])
                except Exception as exc:
                    results = [exc] * len(batch)
            for waiting, result in zip(batch, results):
                waiting.result = result
                waiting.leads = False
                waiting.done.set()
        finally:
            with self._lock:
                if self._queue:
                    following = self._queue[0]
                    following.leads = True
                    following.done.set()
                else:
                    self._sending = False
