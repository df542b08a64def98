"""`python -m bench.store_stand_in --latency-ms N`: the idempotency table at a fixed latency, for diagnostics.

moto serves each DynamoDB request with a few milliseconds of its own CPU, one after another, so
ten claims written at once take ten times one. DynamoDB answers them side by side in a few
milliseconds each. This stand-in answers the calls the function's store makes (PutItem,
UpdateItem, DeleteItem, GetItem, BatchWriteItem) after a fixed latency, each on a thread of its
own, and keeps the items; it checks no condition, which is right only for fresh keys, as the
benchmark's are. It is never a figure's store: the figures run on moto, and a diagnostic names
this stand-in where it is used. Prints its URL (one line), then serves until terminated.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CONTENT_TYPE = "application/x-amz-json-1.0"


class Table:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, dict[str, Any]] = {}

    def answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any] | None:
        """DynamoDB's answer to the operation, or None for one the stand-in does not know."""
        with self._lock:
            if operation == "PutItem":
                self._items[_key(request["Item"])] = request["Item"]
                return {}
            if operation == "BatchWriteItem":
                for writes in request["RequestItems"].values():
                    for write in writes:
                        self._items[_key(write["PutRequest"]["Item"])] = write["PutRequest"]["Item"]
                return {"UnprocessedItems": {}}
            if operation == "GetItem":
                item = self._items.get(_key(request["Key"]))
                return {} if item is None else {"Item": item}
            if operation == "DeleteItem":
                self._items.pop(_key(request["Key"]), None)
                return {}
            if operation == "UpdateItem":  # expiring a claim: not a path the benchmark takes
                return {}
        return None


def _key(item: dict[str, Any]) -> str:
    return json.dumps(item["id"], sort_keys=True)


def serve(latency_s: float) -> ThreadingHTTPServer:
    table = Table()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps connections, as DynamoDB does
        # Headers and body go out as two writes: without this, Nagle's algorithm holds the body
        # until the client's delayed acknowledgement, 40 ms later.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
            time.sleep(latency_s)
            answer = table.answer(operation, request)
            status = 200 if answer is not None else 400
            if answer is None:
                answer = {"__type": "com.amazon.coral.validate#ValidationException", "message": operation}
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: one line per request would be noise."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.store_stand_in")
    parser.add_argument("--latency-ms", type=float, required=True)
    args = parser.parse_args()
    server = serve(args.latency_ms / 1000)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
