"""The wall with posts delivered over Redis pub/sub instead of its streams.

A benchmark contender only (``make bench``'s ``wall-pubsub``), kept to measure
what the stream path costs (issue 8): posts reach sockets at most once, so
never deploy this. It is app.py plus two changes made from outside the
product code: the stream reader's task does nothing (joins still read their
ack from the stream and wake it), and each stored post is emitted through
Flask-SocketIO's message queue to every process. ``WALL_ROOT`` names the
checkout to run (``--wall-dir``), by default this one.
"""

import os
import sys

HERE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.environ.get("WALL_ROOT") or HERE)
os.environ["WALL_ASYNC_MODE"] = "eventlet"

import eventlet  # noqa: E402

eventlet.monkey_patch()

from wall import create_app, drivers, protocol  # noqa: E402
from wall.domain import get_posts  # noqa: E402
from wall.realtime import get_realtime, socketio  # noqa: E402
from wall.serve import serve  # noqa: E402

drivers.install("eventlet")
app = create_app()


# Joins work as ever; the readers that would follow the streams only wait.
def _idle_round(group, wake_position, block_ms):
    eventlet.sleep(block_ms / 1000)
    return wake_position


get_realtime(app).delivery.poll = _idle_round
posts = get_posts(app)
store = posts.add


def add_and_publish(*args, **kwargs):
    post, created, author_key = store(*args, **kwargs)
    if created:
        socketio.emit(protocol.NEW_POST, post, to=post["wall"], namespace=protocol.NAMESPACE)
    return post, created, author_key


posts.add = add_and_publish

if __name__ == "__main__":
    serve(app)
