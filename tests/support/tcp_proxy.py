"""A TCP proxy the tests control, to make a connection go silent without closing.

``blackhole()`` stops forwarding on every open connection and holds them open:
what a dead NAT entry or a pulled cable looks like to both ends (a half-open
connection), which a clean close or ``CLIENT KILL`` does not reproduce.
``restore()`` forwards new connections again; the held ones stay silent.
"""

import select
import socket
import threading


class TcpProxy:
    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs = []  # [client, upstream, forwarding: list[bool]]
        self._forwarding = True
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def blackhole(self):
        """Stop forwarding on every connection, new ones included; close nothing."""
        with self._lock:
            self._forwarding = False
            for pair in self._pairs:
                pair[2][0] = False

    def restore(self):
        """Forward new connections again (connections held silent stay silent)."""
        with self._lock:
            self._forwarding = True

    def close(self):
        self._stopped = True
        self.listener.close()
        with self._lock:
            for client, upstream, _ in self._pairs:
                client.close()
                upstream.close()

    def _accept(self):
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                forwarding = [self._forwarding]
            if not forwarding[0]:
                # Accepted by the kernel, never answered: a silent peer.
                with self._lock:
                    self._pairs.append([client, socket.socket(), forwarding])
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append([client, upstream, forwarding])
            threading.Thread(
                target=self._pump, args=(client, upstream, forwarding), daemon=True
            ).start()

    def _pump(self, client, upstream, forwarding):
        peers = {client: upstream, upstream: client}
        try:
            while not self._stopped and forwarding[0]:
                readable, _, _ = select.select(list(peers), [], [], 0.1)
                if not forwarding[0]:
                    break
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        client.close()
                        upstream.close()
                        return
                    peers[sock].sendall(data)
        except OSError:
            return
        # Silenced: hold both sockets open and read nothing until close().
