"""Where a /speed round trip's server time goes: one client, one echo at a
time, over Socket.IO (``echo`` in ``/speed``) and over the plain WebSocket
(``/ws/echo``), as the /speed page sends them, with py-spy on the server.

    .venv/bin/python -m bench.profile_echo [N] [eventlet|gevent]

Needs py-spy (``.venv/bin/pip install py-spy``) and a Redis at REDIS_URL
(default the local one, database 9). The server runs with its rate limits
on, as shipped (the echo limit raised above what one client sends here).
Prints three rounds of N round trips per method, as medians and p95 in
microseconds with Socket.IO's over the plain WebSocket's, then the
server's CPU per echo (samples outside gevent's or eventlet's wait for
events) and the functions with the largest inclusive share of all the
samples (the wait included: gevent's loop or eventlet's hub on top). The
client (websocket-client) is the same for both methods; the Chromium the
page runs in adds about half a millisecond to each (bench ``speedpage``).
"""

import os
import re
import sys
import tempfile
import time

import websocket

from bench.infra import profile_env
from bench.profile_handshakes import recording, shares
from deploy.launch import AppProcess, free_port

TEXT = "hello world"
# py-spy's leaf while the process waits for events (gevent's loop, eventlet's poll)
IDLE = re.compile(r"^(Hub\.run \(gevent/hub\.py|Hub\.do_poll \(eventlet/hubs/epolls\.py)")


def socketio_echoes(base, n):
    ws = websocket.create_connection(base + "/socket.io/?EIO=4&transport=websocket")
    try:
        ws.recv()  # engine.io's OPEN
        ws.send("40/speed,")
        reply = ws.recv()
        assert reply.startswith("40/speed,"), reply
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            ws.send('42/speed,%d["echo","%s"]' % (i, TEXT))
            reply = ws.recv()
            while reply == "2":  # engine.io's PING
                ws.send("3")
                reply = ws.recv()
            times.append(time.perf_counter() - t0)
            assert reply == '43/speed,%d["%s"]' % (i, TEXT), reply
        return times
    finally:
        ws.close()


def websocket_echoes(base, n):
    ws = websocket.create_connection(base + "/ws/echo")
    try:
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            ws.send(TEXT)
            reply = ws.recv()
            times.append(time.perf_counter() - t0)
            assert reply == TEXT, reply
        return times
    finally:
        ws.close()


def us(times, q=0.5):
    return sorted(times)[int(q * (len(times) - 1))] * 1e6


def busy_samples(raw_path):
    busy = 0
    with open(raw_path) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            leaf = re.sub(r".*site-packages/", "", stack.split(";")[-1])
            if stack and not IDLE.match(leaf):
                busy += int(count)
    return busy


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    mode = sys.argv[2] if len(sys.argv) > 2 else "eventlet"
    env = profile_env(mode, WALL_RATE_LIMITS="on", WALL_RATE_LIMIT_ECHO="1000000/minute")
    workdir = tempfile.mkdtemp(prefix="wall-echo-")
    port = free_port()
    server = AppProcess(port, env, os.path.join(workdir, "server.log"))
    server.start()
    base = "ws://127.0.0.1:%d" % port
    raw = os.path.join(workdir, "profile.txt")
    rate = 1000
    try:
        socketio_echoes(base, 500)  # warm up both paths
        websocket_echoes(base, 500)
        for _ in range(3):
            sio, plain = socketio_echoes(base, n), websocket_echoes(base, n)
            print(
                "%s: Socket.IO median %.0f us, p95 %.0f | plain WebSocket median %.0f us, "
                "p95 %.0f | ratio %.2f"
                % (mode, us(sio), us(sio, 0.95), us(plain), us(plain, 0.95), us(sio) / us(plain))
            )
        with recording(server.pid, raw, rate):
            echoes, t0 = 0, time.monotonic()
            while time.monotonic() - t0 < 6:
                socketio_echoes(base, 1000)
                echoes += 1000
    finally:
        server.stop()
    total, top = shares(raw, top=40)
    busy = busy_samples(raw)
    print(
        "profile: %d Socket.IO echoes, %d samples, %d busy: %.1f us of server CPU per echo "
        "(under py-spy); raw stacks in %s" % (echoes, total, busy, busy / rate / echoes * 1e6, raw)
    )
    for share, name in top:
        print("%5.1f%% %s" % (share, name))


if __name__ == "__main__":
    main()
