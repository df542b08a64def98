"""The HTTP layer: a threaded HTTP/1.1 keep-alive server that hands each request to one function.

It knows nothing of HubSpot: it reads a request, asks `respond` for a `Reply` or a `HangUp`, and
writes the reply (always with a Content-Length) or closes the connection without answering.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSON_CONTENT_TYPE = "application/json;charset=utf-8"
# Statuses http.server has no reason phrase for.
REASON_PHRASES = {477: "Migration in Progress"}


@dataclass(frozen=True, slots=True)
class IncomingRequest:
    method: str
    target: str  # the raw request target, exactly as received
    authorization: str | None = field(repr=False)
    body: bytes
    client_host: str


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HangUp:
    """Close the connection without an answer, `after_s` seconds from now (or when stopping)."""

    after_s: float


Respond = Callable[[IncomingRequest], Reply | HangUp]


class SandboxHTTPServer(ThreadingHTTPServer):
    """Tracks open connections so that stopping also ends idle keep-alive connections."""

    daemon_threads = True

    def __init__(
        self, host: str, port: int, respond: Respond, stopping: threading.Event, *, log_requests: bool
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.respond = respond
        self.stopping = stopping
        self.log_requests = log_requests
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, port), SandboxRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its client
                connection.shutdown(socket.SHUT_RDWR)


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for a delayed ACK.
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    def version_string(self) -> str:
        return "HubSpotSandbox"

    # One handler for every method: the router answers 405 where a path does not take one.
    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log_requests:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def _handle(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "Content-Length is not a number")
            return
        request = IncomingRequest(
            method=self.command,
            target=self.path,
            authorization=self.headers.get("Authorization"),
            body=self.rfile.read(length) if length > 0 else b"",
            client_host=self.client_address[0],
        )
        outcome = self.server.respond(request)
        if isinstance(outcome, HangUp):
            self.server.stopping.wait(outcome.after_s)
            self.close_connection = True
            return
        self._write(outcome)

    def _write(self, reply: Reply) -> None:
        payload = json.dumps(reply.body, separators=(",", ":")).encode()
        self.send_response(reply.status, REASON_PHRASES.get(reply.status))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
