"""No secret or address leaks: the token never appears anywhere, full addresses never in logs or metrics.

A workload with every fate (success, replay, rejection, malformed and invalid input, HubSpot
faults, a token rotation, an idempotency-store outage, API errors) runs through the real handler;
then everything it left behind is scanned as written, not reasoned about from code: the function's
log stream, stdout and stderr (EMF metrics), other libraries' log records, DLQ attributes and
bodies, idempotency records and API answers. And the token is never sent over a connection whose
certificate fails verification, whatever a message or request asks for.
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from local.hubspot_sandbox.auth import ALL_SCOPES
from local.soak.leaks import find_leaks
from tests.conftest import FunctionStack
from tests.integration.function_harness import (
    api_event,
    dead_letters,
    failed_ids,
    invoke,
    receive_event,
    send,
    settle,
    sqs_event,
)

ROTATED_TOKEN = "rotated-" + "9f8e7d6c5b4a" * 3
ADDRESSES = [
    "jane.doe@example.com",
    "o'hara+news@example.com",
    "a/../../crm@example.com",
    "zoë.müller@bücher.example",
    "用户@例子.广告",
    "refused@example.com",
]
# A name that is not loopback to the client's eyes, resolved to 127.0.0.1 for this test only.
TLS_HOST = "hubspot-tls.soak.test"


def scan_table(stack: FunctionStack) -> list[Any]:
    items: list[Any] = stack.session.client("dynamodb").scan(TableName=stack.resources.table_name)["Items"]
    return items


def scan_everything(
    texts: dict[str, str],
    letters: list[dict[str, str]],
    items: list[Any],
    answers: list[Any],
    secrets: list[str],
) -> list[str]:
    """Every leak in what a run left behind, as text (empty when there is none)."""
    attributes = [{key: value for key, value in letter.items() if key != "body"} for letter in letters]
    captured = {
        **texts,
        "DLQ attributes": json.dumps(attributes, ensure_ascii=False),
        "idempotency records": json.dumps(items, ensure_ascii=False),
    }
    leaks = [leak for source, text in captured.items() for leak in find_leaks(source, text, secrets=secrets)]
    # DLQ bodies are the producers' messages and API answers go back to their callers: token only.
    bodies = "\n".join(letter["body"] for letter in letters)
    leaks += find_leaks("DLQ bodies", bodies, secrets=secrets, emails=False)
    leaks += find_leaks("API answers", json.dumps(answers), secrets=secrets, emails=False)
    return [str(leak) for leak in leaks]


def run_api_fates(stack: FunctionStack) -> list[Any]:
    """Requests of every API outcome: success, replay, 400, 422 and 502."""
    body = {"subscriberIdString": "api.user@example.com"}
    key = {"Idempotency-Key": "a-1"}
    events = [
        api_event("POST", "/unsubscribe-all", body=body, headers=key),
        api_event("POST", "/unsubscribe-all", body=body, headers=key),
        api_event("POST", "/unsubscribe-all", body={"subscriberIdString": "other@example.com"}, headers=key),
        api_event("POST", "/unsubscribe-all", body="{broken api.user@example.com"),
        api_event(
            "GET", "/unsubscribe-all/api.user%40example.com", resource="/unsubscribe-all/{subscriberIdString}"
        ),
    ]
    answers = [invoke(event) for event in events]
    stack.hubspot.configure(fault_rates={"502": 1.0})
    failing = {"subscriberIdString": "failing@example.com"}
    answers.append(invoke(api_event("POST", "/unsubscribe-all", body=failing)))
    stack.hubspot.configure(fault_rates={})
    assert [answer["statusCode"] for answer in answers] == [200, 200, 422, 400, 200, 502]
    return answers


def run_sqs_fates(stack: FunctionStack, token: str) -> None:
    """Messages of every fate, with HubSpot faults and a token rotation."""
    hubspot = stack.hubspot
    # The injected 429 asks for a 1 s wait (HubSpot's observed Retry-After), so it is waited out in
    # the invocation.
    hubspot.configure(
        invalid_subscribers="^refused@", timeout_hang_s=0.5, fault_retry_after_s=1, quirks=["retry-after"]
    )
    hubspot.script_faults(["429", "503", "drop", None, "timeout", "423", "500"])
    bodies: list[Any] = [
        {"subscriberIdString": address, "idempotencyKey": f"k-{n}"} for n, address in enumerate(ADDRESSES)
    ]
    bodies += [
        {"subscriberIdString": ADDRESSES[0], "idempotencyKey": "k-0"},  # a duplicate
        {"subscriberIdString": "someone.else@example.com", "idempotencyKey": "k-1"},  # a key reused
        "{not json: jane.doe@example.com",
        {"subscriberIdString": "bad address@example.com"},
        {"subscriberIdString": "x@example.com", "channel": "SMS"},
    ]
    # The batch and its redeliveries: a write HubSpot may have carried out (a dropped connection,
    # a timeout, a 500) is confirmed by a status read, and its records retried, not sent blind
    assert settle(sqs_event(stack, bodies)) == set()

    # A rotation: the secret holds a new token and HubSpot refuses the old one
    secrets = stack.session.client("secretsmanager")
    rotated = json.dumps({"token": ROTATED_TOKEN})
    secrets.put_secret_value(SecretId=stack.resources.secret_id, SecretString=rotated)
    hubspot.add_token(ROTATED_TOKEN, ALL_SCOPES)
    hubspot.revoke_token(token)
    invoke(sqs_event(stack, [{"subscriberIdString": "after.rotation@example.com"}]))


def run_store_outage(stack: FunctionStack) -> Any:
    """The idempotency store disappears: a message is left for retry, a request gets a 503."""
    stack.session.client("dynamodb").delete_table(TableName=stack.resources.table_name)
    ids = send(stack, [{"subscriberIdString": "during.outage@example.com"}])
    assert failed_ids(invoke(receive_event(stack, 1))) == set(ids)
    answer = invoke(api_event("POST", "/unsubscribe-all", body={"subscriberIdString": "outage@example.com"}))
    assert answer["statusCode"] == 503
    return answer


@pytest.mark.parametrize(
    "library_log_level",
    [
        pytest.param(logging.WARNING, id="libraries-at-warning"),
        # The root logger at DEBUG, as Lambda's ApplicationLogLevel=DEBUG sets it.
        pytest.param(logging.DEBUG, id="libraries-at-debug"),
    ],
)
def test_nothing_the_function_leaves_behind_holds_the_token_or_a_full_address(
    *,
    function_stack: FunctionStack,
    hubspot_token: str,
    function_logs: io.StringIO,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    library_log_level: int,
) -> None:
    # Given a run with messages and requests of every fate, other libraries logging at the given level
    # (on Lambda the root logger is at WARNING unless ApplicationLogLevel says otherwise)
    caplog.set_level(library_log_level)
    answers = run_api_fates(function_stack)
    run_sqs_fates(function_stack, hubspot_token)
    letters, items = dead_letters(function_stack), scan_table(function_stack)
    answers.append(run_store_outage(function_stack))

    # When everything it left behind is scanned
    out, err = capfd.readouterr()
    texts = {
        "function logs": function_logs.getvalue(),
        "stdout (metrics)": out,
        "stderr": err,
        "library logs": caplog.text,
    }
    leaks = scan_everything(texts, letters, items, answers, [hubspot_token, ROTATED_TOKEN])

    # Then there is no leak, and the scan did read what it should have: logs, metrics, letters, records
    assert leaks == []
    assert '"subscriber":"j***@example.com"' in texts["function logs"]
    assert '"_aws"' in out
    assert {letter["reason"] for letter in letters} >= {"MALFORMED_JSON", "INVALID_EMAIL", "HUBSPOT_REJECTED"}
    assert len(items) >= len(ADDRESSES)
    assert function_stack.hubspot.successful_unsubscribes().get("after.rotation@example.com") == 1


def test_the_scan_finds_what_it_looks_for() -> None:
    # Given captured output with the token percent-encoded in a URL and addresses in several encodings
    token = "pat-na1-0a1b2c3d-0000-4000-8000-000000000000"
    text = "\n".join(
        [
            '{"message": "unsubscribed", "subscriber": "j***@example.com"}',
            "GET /statuses/jane%40example.com/unsubscribe-all?t=" + token.replace("-", "%2D"),
            json.dumps({"subscriber": "zoë@bücher.example"}),  # \u00eb escapes
        ]
    )

    # When it is scanned
    found = {(leak.kind, leak.excerpt) for leak in find_leaks("sample", text, secrets=[token])}

    # Then the token and both full addresses are found, the masked one is not, and nothing found is repeated
    assert ("token", "pat-*** (44 characters)") in found
    assert ("email address", "j***@example.com (unmasked)") in found
    assert ("email address", "z***@bücher.example (unmasked)") in found
    assert not any(token in excerpt or "jane" in excerpt for _, excerpt in found)


# --- TLS ------------------------------------------------------------------------------------------


class RecordingTlsServer(ThreadingHTTPServer):
    """HTTPS with the given certificate; counts failed handshakes and keeps the requests it read."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.context = context
        self.failed_handshakes = 0
        self.requests: list[str] = []

    def get_request(self) -> tuple[Any, Any]:
        connection, address = self.socket.accept()
        try:
            return self.context.wrap_socket(connection, server_side=True), address
        except OSError:
            self.failed_handshakes += 1
            connection.close()
            raise


class RecordingHandler(BaseHTTPRequestHandler):
    server: RecordingTlsServer

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        self.server.requests.append(self.path)
        body = b'{"status": "COMPLETE", "results": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TLS_HOST)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(TLS_HOST)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RecordingTlsServer, Path]]:
    """A self-signed HTTPS server at https://hubspot-tls.soak.test:<port>, and its certificate."""
    cert_path, key_path = self_signed_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    resolve = socket.getaddrinfo

    def fake_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        return resolve("127.0.0.1" if host == TLS_HOST else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
    server = RecordingTlsServer(context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server, cert_path
    server.shutdown()
    server.server_close()


def test_the_token_never_goes_to_a_server_whose_certificate_fails_verification(
    function_stack: FunctionStack,
    tls_server: tuple[RecordingTlsServer, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the function pointed at an HTTPS HubSpot on a non-loopback name with a self-signed certificate
    server, cert_path = tls_server
    base_url = f"https://{TLS_HOST}:{server.server_address[1]}"
    monkeypatch.setenv("HUBSPOT_BASE_URL", base_url)

    # When a message and an API request that ask for verification to be off are handled
    ids = send(
        function_stack, [{"subscriberIdString": "jane@example.com", "verify": False, "insecure": True}]
    )
    retried = failed_ids(invoke(receive_event(function_stack, 1)))
    answer = invoke(
        api_event(
            "POST",
            "/unsubscribe-all",
            query={"verify": "false"},
            body={"subscriberIdString": "john@example.com", "verifyTls": False},
        )
    )

    # Then the handshakes were refused, no request (so no token) reached the server, and both will be retried
    assert server.failed_handshakes >= 2
    assert server.requests == []
    assert retried == set(ids)
    assert answer["statusCode"] == 502

    # And the same server, once its certificate is trusted, does answer: verification alone refused it
    trusting = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=str(cert_path), retries=False)
    assert trusting.request("GET", f"{base_url}/probe").status == 200
    assert server.requests == ["/probe"]
