"""Which AWS calls reached the local AWS, and whose: the function's, Lambda's event source's, the CLI's.

Each of them names itself in its clients' User-Agent (`app/<id>`, botocore's `user_agent_appid`),
as CloudTrail would show it; calls without a name (tests setting up, the soak reading its
evidence) are not kept. A call is kept as IAM sees it: the service (the signing name of its
SigV4 credential scope), the region, the operation (X-Amz-Target for JSON protocols, Action for
query ones) and the parameters that name a resource. `recording(app, log)` wraps moto's WSGI
application; `local/aws/permissions.py` checks the calls against template.yaml.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

# The parameters that name what a call acts on, in the services the function and the CLI use.
RESOURCE_PARAMETERS = frozenset(
    {"QueueUrl", "QueueName", "TableName", "SecretId", "StackName", "SourceArn", "DestinationArn", "KeyId"}
)
# A KMS call's encryption context, which key policies' conditions read: kept as
# `EncryptionContext:<key>` parameters.
ENCRYPTION_CONTEXT = "EncryptionContext"
_APP_ID = re.compile(r"(?:^|\s)app/(\S+)")
_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/([^/,]+)/([^/,]+)/aws4_request")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True, order=True)
class AwsCall:
    principal: str  # the caller's app id
    service: str  # the SigV4 signing name: sqs, dynamodb, secretsmanager, kms, cloudformation
    region: str
    operation: str  # as the API names it: SendMessageBatch, PutItem, ...
    resources: tuple[tuple[str, str], ...]  # (parameter, value), sorted; a KMS call's context too

    def parameter(self, name: str) -> str | None:
        return dict(self.resources).get(name)

    def parameters(self, name: str) -> list[str]:
        """Every value of the parameter (a batch names each of its tables)."""
        return [value for parameter, value in self.resources if parameter == name]


class CallLog:
    """The distinct calls recorded so far (thread-safe: moto serves each request on its own thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: set[AwsCall] = set()

    def record(self, call: AwsCall) -> None:
        with self._lock:
            self._calls.add(call)

    def calls(self) -> list[AwsCall]:
        with self._lock:
            return sorted(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


def principal_of(user_agent: str) -> str | None:
    match = _APP_ID.search(user_agent)
    return match.group(1) if match else None


def call_of(principal: str, headers: dict[str, str], body: bytes) -> AwsCall | None:
    """The call an HTTP request to the local AWS makes, or None if it is not a signed API call."""
    scope = _SCOPE.search(headers.get("authorization", ""))
    if scope is None:
        return None
    region, service = scope.groups()
    target = headers.get("x-amz-target")
    if target:
        operation = target.rsplit(".", 1)[-1]
        try:
            decoded = json.loads(body or b"{}")
        except ValueError:
            decoded = {}
        parameters = decoded if isinstance(decoded, dict) else {}
    else:
        form = parse_qs(body.decode("utf-8", errors="replace"))
        parameters = {name: values[0] for name, values in form.items()}
        operation = str(parameters.get("Action", ""))
    named = [
        (name, value)
        for name, value in parameters.items()
        if name in RESOURCE_PARAMETERS and isinstance(value, str)
    ]
    # DynamoDB's batch operations name their tables as the keys of RequestItems.
    batch = parameters.get("RequestItems")
    if isinstance(batch, dict):
        named += [("TableName", table) for table in batch if isinstance(table, str)]
    context = parameters.get(ENCRYPTION_CONTEXT)
    if isinstance(context, dict):
        named += [(f"{ENCRYPTION_CONTEXT}:{key}", str(value)) for key, value in context.items()]
    return AwsCall(principal, service, region, operation, tuple(sorted(named)))


def recording(app: WsgiApp, log: CallLog) -> WsgiApp:
    """`app` (moto's), recording every named caller's calls in `log` before they are served."""

    def recorded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        principal = principal_of(environ.get("HTTP_USER_AGENT", ""))
        if principal is not None:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            headers = {
                key[5:].replace("_", "-").lower(): value
                for key, value in environ.items()
                if key.startswith("HTTP_")
            }
            # A body cut short (the caller gave up, or a soak outage reset the connection mid-send)
            # is no call: AWS authorises only what it received whole, and moto refuses it too.
            call = call_of(principal, headers, body) if len(body) == length else None
            if call is not None:
                log.record(call)
        return app(environ, start_response)

    return recorded
