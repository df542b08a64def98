"""moto as the local AWS: a real HTTP endpoint for DynamoDB, SQS and Secrets Manager.

boto3 reaches it through the standard AWS_ENDPOINT_URL variable, so the function's code runs
unchanged; the credentials are dummies, so nothing can ever reach a real account by mistake.
"""

from __future__ import annotations

from moto.server import ThreadedMotoServer

from local.aws.moto_fixes import apply_moto_fixes
from local.lifecycle import StartStop

REGION = "us-east-1"
# moto's default account; ARNs and queue URLs carry it.
ACCOUNT_ID = "123456789012"


class MotoEndpoint(StartStop):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._url: str | None = None

    def start(self) -> None:
        apply_moto_fixes()
        self._server.start()
        host, port = self._server.get_host_and_port()
        self._url = f"http://{host}:{port}"

    def stop(self) -> None:
        if self._url is not None:
            self._server.stop()
            self._url = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("moto is not running")
        return self._url

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
