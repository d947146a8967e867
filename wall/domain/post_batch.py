"""Posts that arrive together share one Redis round trip.

Each post is one ``EVALSHA``; sent one by one, every post costs its own
write, wait and read. Concurrent posts go as one pipeline instead
(:class:`wall.storage.batch.Batch`): a single post waits for nothing,
concurrent posts wait for at most one round trip. Each post still gets its
own result (or error), and nothing is retried (:mod:`wall.storage.posts`).
"""

from ..storage.batch import Batch


class PostBatch:
    """Stores posts through :meth:`wall.storage.posts.PostStore.add_posts`, batched.

    :param store: a :class:`wall.storage.posts.PostStore`.
    """

    def __init__(self, store):
        self.store = store
        # Alone, a post goes through the script object, which also (re)loads
        # the script into Redis; a pipeline would first meet NOSCRIPT.
        self._batch = Batch(store.add_post, store.add_posts)

    def add(self, new):
        """Store a :class:`~wall.storage.posts.NewPost`; return what
        :meth:`~wall.storage.posts.PostStore.add_post` returns."""
        return self._batch.call(new)
