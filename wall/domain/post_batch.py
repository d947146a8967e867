"""Posts that arrive together share one Redis round trip.

Each post is one ``EVALSHA``; sent one by one, every post costs its own
write, wait and read, and under load most of the server's time went into
that I/O rather than into the posts. Here the first post to arrive is sent
at once, alone, and whatever arrives while it is on its way is sent next
as one pipeline, and so on: a single post waits for nothing, concurrent
posts wait for at most one round trip. Each post still gets its own result
(or error), and nothing is retried (:mod:`wall.storage.posts`).

The task that sends a batch is one of the posting tasks. Once its own post
is answered it hands the next batch to the oldest waiting post's task, so
no client's ack waits for other people's batches.
"""

import threading


class _Waiting:
    __slots__ = ("post", "done", "result", "leads")

    def __init__(self, post):
        self.post = post
        self.done = threading.Event()
        self.result = None
        #: woken to send the next batch, not with a result
        self.leads = False


class PostBatch:
    """Stores posts through :meth:`wall.storage.posts.PostStore.add_posts`, batched.

    :param store: a :class:`wall.storage.posts.PostStore`.
    """

    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        self._queue = []
        self._sending = False

    def add(self, new):
        """Store a :class:`~wall.storage.posts.NewPost`; return what
        :meth:`~wall.storage.posts.PostStore.add_post` returns."""
        mine = _Waiting(new)
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
                # Alone, through the script object, which also (re)loads the
                # script into Redis; a pipeline would first meet NOSCRIPT.
                try:
                    results = [self.store.add_post(batch[0].post)]
                except Exception as exc:
                    results = [exc]
            else:
                try:
                    results = self.store.add_posts([w.post for w in batch])
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
