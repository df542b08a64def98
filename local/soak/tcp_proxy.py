"""A TCP proxy that can fail the service behind it in two ways, with the upstream's state kept.

The soak points only the function's DynamoDB client at it (AWS_ENDPOINT_URL_DYNAMODB), so the
idempotency store goes away while SQS and Secrets Manager, on the same moto, stay up; tests point
one service of the function at it the same way. Two outages:

- `refuse()`: open connections are cut and new ones reset at once, as a network that drops a
  service does;
- `hang()`: new connections are accepted and never answered, and nothing more is passed either
  way on the open ones, as a service that is overloaded or half-down does: a client learns of it
  only from its own timeouts.

`serve()` ends either: held connections are reset, and new ones are passed through again.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

from local.lifecycle import StartStop

CHUNK = 64 * 1024
ACCEPT_POLL_S = 0.1


def _reset(connection: socket.socket) -> None:
    """Close so that the peer sees a reset (RST), not an orderly end of stream."""
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


class TcpProxy(StartStop):
    def __init__(self, upstream_host: str, upstream_port: int, host: str = "127.0.0.1") -> None:
        self._upstream = (upstream_host, upstream_port)
        self._host = host
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._refusing = False
        self._hanging = False
        self._open: set[socket.socket] = set()
        self._held: set[socket.socket] = set()  # accepted while hanging, never answered
        self.refused = 0  # connections reset while refusing, open ones included
        self.held = 0  # connections left unanswered: open when hanging began, or accepted since

    @property
    def url(self) -> str:
        if self._listener is None:
            raise RuntimeError("the proxy is not running")
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        listener = socket.create_server((self._host, 0))
        listener.settimeout(ACCEPT_POLL_S)
        self._listener = listener
        self._stopping.clear()
        self._acceptor = threading.Thread(
            target=self._accept, args=(listener,), name="tcp-proxy", daemon=True
        )
        self._acceptor.start()

    def stop(self) -> None:
        if self._listener is None or self._acceptor is None:
            return
        self._stopping.set()
        self._acceptor.join()
        self._listener.close()
        self._listener = self._acceptor = None
        self._cut_open_connections()
        self.serve()

    @property
    def in_use(self) -> bool:
        """Whether a connection is open through the proxy now."""
        with self._lock:
            return bool(self._open)

    def refuse(self) -> None:
        """From now on, and for the connections open now: no service."""
        with self._lock:
            self._refusing = True
        self._cut_open_connections()

    def hang(self) -> None:
        """From now on, and on the connections open now: silence, with every connection accepted."""
        with self._lock:
            self._hanging = True
            self.held += len(self._open) // 2  # each proxied connection is a pair

    def serve(self) -> None:
        with self._lock:
            self._refusing = self._hanging = False
            held, self._held = self._held, set()
        for connection in held:
            _reset(connection)

    def _cut_open_connections(self) -> None:
        with self._lock:
            connections, self._open = self._open, set()
            self.refused += len(connections) // 2  # each proxied connection is a pair
        for connection in connections:
            _reset(connection)

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                refusing, hanging = self._refusing, self._hanging
                self.refused += int(refusing)
                self.held += int(hanging)
                if hanging:
                    self._held.add(client)
            if refusing:
                _reset(client)
            if refusing or hanging:
                continue
            try:
                upstream = socket.create_connection(self._upstream)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(CHUNK):
                if not self._hanging:  # while hanging, what is sent is lost
                    target.sendall(data)
        with self._lock:
            ours = source in self._open
            self._open.difference_update((source, target))
        if ours:
            # An orderly end from one side ends both; a cut connection was reset already.
            for connection in (source, target):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
