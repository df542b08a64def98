"""moto as the local AWS: a real HTTP endpoint for DynamoDB, SQS and Secrets Manager.

boto3 reaches it through the standard AWS_ENDPOINT_URL variable, so the function's code runs
unchanged; the credentials are dummies, so nothing can ever reach a real account by mistake.
The calls of the function, Lambda's event source and the operator CLI are recorded on the way in
(`calls`), so that their permissions can be checked against template.yaml (`local/aws/permissions.py`).
"""

from __future__ import annotations

import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from local.aws.call_log import CallLog, recording
from local.aws.moto_fixes import apply_moto_fixes
from local.lifecycle import StartStop

REGION = "us-east-1"
# moto's default account; ARNs and queue URLs carry it.
ACCOUNT_ID = "123456789012"


class MotoEndpoint(StartStop):
    """moto's server (as moto's ThreadedMotoServer runs it), with the named callers' calls recorded."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.calls = CallLog()

    def start(self) -> None:
        apply_moto_fixes()
        app = recording(DomainDispatcherApplication(create_backend_app), self.calls)
        self._server = make_server(
            self._host, self._port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._server.server_close()
            self._server = self._thread = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("moto is not running")
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def environment(self) -> dict[str, str]:
        """What boto3 needs to talk to this endpoint and nothing else."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }
