"""Closing an engine.io session from the server side."""


def close_session(eio, sid):
    """Close an engine.io session without waiting for its client.

    ``wait=True`` would wait for a long-polling client to collect the close
    packet, forever if it is gone. Sessions are closed at the engine.io
    level, which socket.io-client treats as a lost transport and reconnects
    (a Socket.IO-level disconnect would make it give up).
    """
    session = eio.sockets.get(sid)
    if session is not None:
        session.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)
        eio.sockets.pop(sid, None)
