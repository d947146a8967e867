"""engine.io's WebSocket writer on demand (wall/drivers/writer_tasks.py), under
eventlet's queue and greenlets (not monkey-patched: only eventlet's own
primitives are used here)."""

from types import SimpleNamespace

import pytest

from wall.drivers import writer_tasks

eventlet = pytest.importorskip("eventlet")
from engineio import packet  # noqa: E402
from eventlet import queue as green_queue  # noqa: E402

pytestmark = pytest.mark.timeout(20)


class GreenWebSocket:
    """Records frames; each send yields, as a real one may."""

    def __init__(self, fail_after=None):
        self.frames = []
        self.closed_after = None
        self.sending = 0
        self.most_at_once = 0
        self.fail_after = fail_after

    def send(self, frame):
        if self.closed_after is not None:
            raise OSError("closed")
        if self.fail_after is not None and len(self.frames) >= self.fail_after:
            raise OSError("broken pipe")
        self.sending += 1
        self.most_at_once = max(self.most_at_once, self.sending)
        eventlet.sleep(0)
        self.frames.append(frame)
        self.sending -= 1

    def close(self):
        self.closed_after = len(self.frames)


def green_session():
    server = SimpleNamespace(
        get_queue_empty_exception=lambda: green_queue.Empty, create_event=_Event
    )
    queue = writer_tasks.kicking_queue_class(green_queue.Queue)()
    return SimpleNamespace(server=server, queue=queue)


class _Event:
    """threading.Event's two methods, on eventlet's Event."""

    def __init__(self):
        self._event = eventlet.Event()

    def set(self):
        if not self._event.ready():
            self._event.send(True)

    def wait(self):
        return self._event.wait()


def message(i):
    return packet.Packet(packet.MESSAGE, data="m%d" % i)


def start(session, ws):
    writer = writer_tasks.OnDemandWriter(session, ws, eventlet.spawn_n)
    session.queue.wall_on_put = writer.kick
    return writer


def test_queued_packets_leave_in_order_from_one_writer_that_ends_when_the_queue_is_empty():
    session, ws = green_session(), GreenWebSocket()
    writer = start(session, ws)
    for i in range(50):
        session.queue.put(message(i))
        if i % 7 == 0:
            eventlet.sleep(0)  # the writer runs, sends, and more arrive meanwhile
    eventlet.sleep(0.05)
    assert ws.frames == [message(i).encode() for i in range(50)]
    assert ws.most_at_once == 1
    assert not writer.running, "a writer still waits on an empty queue"
    session.queue.put(message(50))  # a later packet starts a writer again
    eventlet.sleep(0.05)
    assert ws.frames[-1] == message(50).encode() and not writer.running


def test_the_end_closes_the_websocket_after_what_was_queued_and_the_queue_joins():
    session, ws = green_session(), GreenWebSocket()
    writer = start(session, ws)
    for i in range(5):
        session.queue.put(message(i))
    writer.join()  # returns only once the WebSocket is closed
    assert ws.closed_after == 5
    session.queue.join()  # every get had its task_done (close(wait=True) returns)
    session.queue.put(message(9))  # a put after the end starts nothing
    eventlet.sleep(0.01)
    assert len(ws.frames) == 5 and writer.finished


def test_a_failed_send_closes_the_websocket_and_the_handler_s_join_still_returns():
    session, ws = green_session(), GreenWebSocket(fail_after=2)
    writer = start(session, ws)
    for i in range(4):
        session.queue.put(message(i))
    eventlet.sleep(0.05)
    assert ws.closed_after == 2 and writer.finished
    with eventlet.Timeout(2):
        writer.join()


def test_only_engine_io_s_own_handler_is_replaced():
    engineio_socket = pytest.importorskip("engineio.socket")

    stock = writer_tasks.TARGETS[0].resolve()  # (other tests may have wrapped it)

    class Socket(engineio_socket.Socket):
        _websocket_handler = stock

    writer_tasks.write_on_demand(Socket, eventlet.spawn_n)
    assert Socket._websocket_handler._wall_original is stock
    with pytest.raises(RuntimeError):
        writer_tasks.write_on_demand(Socket, eventlet.spawn_n)


def test_the_server_s_queues_kick_and_stay_the_library_s_kind():
    class Server:
        _async = {"queue": green_queue.Queue}

        def create_queue(self, *args, **kwargs):
            return self._async["queue"](*args, **kwargs)

    writer_tasks.kick_on_put(Server)
    q = Server().create_queue()
    assert isinstance(q, green_queue.Queue)
    kicked = []
    q.put(1)
    q.wall_on_put = lambda: kicked.append(q.qsize())
    q.put(2)
    assert kicked == [2] and Server().create_queue().wall_on_put is None
