"""`unsubscribe-all status` against a tiny API on a real socket that checks what API Gateway would:
a SigV4 signature for execute-api over the request exactly as it arrived, the address as one
percent-encoded path segment. It answers with HubSpot-shaped bodies, as the service passes on."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from operator_cli.main import main

AWKWARD = "a/b?c#d@x.com"
AWKWARD_SEGMENT = "a%2Fb%3Fc%23d%40x.com"
STAGE = "/Prod"
LOCAL_CREDENTIALS = ReadOnlyCredentials("testing", "testing", None)


@dataclass
class Received:
    path: str
    headers: dict[str, str]


@dataclass
class FakeApi:
    """Answers every GET with `status`/`body` and keeps what it received."""

    status: int = 200
    body: Any = None
    received: list[Received] = field(default_factory=list)
    url: str = ""


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            api.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}))
            payload = json.dumps(api.body).encode()
            self.send_response(api.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}{STAGE}/"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def local_state(tmp_path: Path, fake_api: FakeApi) -> Path:
    path = tmp_path / "local-stack.json"
    path.write_text(
        json.dumps(
            {
                "awsEndpointUrl": "http://127.0.0.1:9",
                "region": "us-east-1",
                "queueUrl": "http://127.0.0.1:9/123456789012/q",
                "deadLetterQueueUrl": "http://127.0.0.1:9/123456789012/dlq",
                "apiUrl": fake_api.url,
                "hubspotBaseUrl": "http://127.0.0.1:9",
            }
        )
    )
    return path


def expected_signature(received: Received, host: str) -> tuple[str, str]:
    """The signature (and canonical request) a verifier computes from the request as received."""
    authorization = received.headers["authorization"]
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    request = AWSRequest(
        method="GET",
        url=f"http://{host}{received.path}",
        headers={name: received.headers[name] for name in signed if name != "host"},
    )
    request.context["timestamp"] = received.headers["x-amz-date"]
    signer = SigV4Auth(LOCAL_CREDENTIALS, "execute-api", "us-east-1")
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request), canonical


def hubspot_wide_status(email: str) -> dict[str, Any]:
    return {
        "status": "COMPLETE",
        "results": [
            {
                "subscriberIdString": email,
                "channel": "EMAIL",
                "status": "UNSUBSCRIBED",
                "timestamp": "2026-11-20T09:30:00.000Z",
                "wideStatusType": "PORTAL_WIDE",
            }
        ],
        "startedAt": "2026-11-26T10:00:00.000Z",
        "completedAt": "2026-11-26T10:00:00.100Z",
    }


def test_status_signs_the_request_and_sends_the_address_as_one_encoded_segment(fake_api, local_state, capsys):
    # Given an API that says the awkward address is unsubscribed portal-wide
    fake_api.body = hubspot_wide_status(AWKWARD)

    # When the operator asks for its status in business unit 7
    code = main(["status", AWKWARD, "--business-unit", "7", "--local-state", str(local_state)])

    # Then the request carried the address as one segment, under the stage, with the query
    (received,) = fake_api.received
    assert received.path == f"{STAGE}/unsubscribe-all/{AWKWARD_SEGMENT}?businessUnitId=7"
    # And a SigV4 signature for execute-api that verifies over the request as it arrived
    host = received.headers["host"]
    assert received.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert "/us-east-1/execute-api/aws4_request" in received.headers["authorization"]
    signature, canonical = expected_signature(received, host)
    assert received.headers["authorization"].endswith(f"Signature={signature}")
    # (SigV4 encodes each path segment twice for every service but S3)
    assert canonical.splitlines()[1] == f"{STAGE}/unsubscribe-all/a%252Fb%253Fc%2523d%2540x.com"
    # And the operator reads a short summary naming the address they asked about
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{AWKWARD}: UNSUBSCRIBED from all email (business unit 7)",
        "  portal-wide (PORTAL_WIDE), since 2026-11-20T09:30:00.000Z",
    ]


def test_status_of_a_subscriber_who_never_opted_out_says_so(fake_api, local_state, capsys):
    # Given an API with no wide status for the subscriber
    fake_api.body = {"status": "COMPLETE", "results": [], "startedAt": "x", "completedAt": "y"}

    # When their status is asked
    code = main(["status", "jane@example.com", "--local-state", str(local_state)])

    # Then the answer is a plain no
    assert code == 0
    assert capsys.readouterr().out.strip() == (
        "jane@example.com: NOT unsubscribed from all email (the default business unit)"
    )
    assert fake_api.received[0].path == f"{STAGE}/unsubscribe-all/jane%40example.com"


def test_status_json_prints_the_body_as_it_came(fake_api, local_state, capsys):
    # Given an API answering HubSpot's body
    fake_api.body = hubspot_wide_status("jane@example.com")

    # When the raw body is asked for
    code = main(["status", "jane@example.com", "--json", "--local-state", str(local_state)])

    # Then it is printed unchanged
    assert code == 0
    assert json.loads(capsys.readouterr().out) == fake_api.body


def test_status_refused_by_iam_explains_what_to_check(fake_api, local_state, capsys):
    # Given an API Gateway that refuses the caller
    fake_api.status = 403
    fake_api.body = {"message": "User: arn:aws:iam::123456789012:user/op is not authorized"}

    # When the status is asked
    code = main(["status", "jane@example.com", "--local-state", str(local_state)])

    # Then the operation fails with a hint at credentials and execute-api:Invoke
    error = capsys.readouterr().err
    assert code == 1
    assert "is not authorized" in error
    assert "execute-api:Invoke" in error


def test_status_when_hubspot_cannot_answer_now_says_to_try_again(fake_api, local_state, capsys):
    # Given the service answering 429 in HubSpot's error shape
    fake_api.status = 429
    fake_api.body = {
        "status": "error",
        "category": "RATE_LIMITS",
        "message": "slow down",
        "correlationId": "c-1",
    }

    # When the status is asked
    code = main(["status", "jane@example.com", "--local-state", str(local_state)])

    # Then the operator is told it is temporary, with the service's own words
    error = capsys.readouterr().err
    assert code == 1
    assert "RATE_LIMITS: slow down (correlation id c-1)" in error
    assert "try again" in error
