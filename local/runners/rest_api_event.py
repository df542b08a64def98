"""An HTTP request as the REST API proxy event API Gateway sends, and the function's answer as HTTP.

The event has the keys of `sam local start-api` / API Gateway REST events (see events/api-*.json):
`path` as received (still percent-encoded), `pathParameters` decoded, single- and multi-value
query parameters and headers, `requestContext` with a fresh `requestId`. IAM authorisation is
not checked locally, so the identity carries no caller. A text body is passed as text.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.aws.moto_endpoint import ACCOUNT_ID
from local.runners.api_routes import RouteMatch

LOCAL_API_ID = "local"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # path and query as received
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str  # HTTP/1.1
    port: int


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @classmethod
    def json(
        cls, status: int, body: Mapping[str, Any], headers: Sequence[tuple[str, str]] = ()
    ) -> HttpAnswer:
        return cls(status, [("Content-Type", "application/json"), *headers], json.dumps(body).encode())


def _multi_value(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]] | None:
    if not pairs:
        return None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def _request_time(now: datetime) -> str:
    return f"{now:%d}/{_MONTHS[now.month - 1]}/{now:%Y:%H:%M:%S} +0000"


def _with_forwarding_headers(request: HttpRequest) -> list[tuple[str, str]]:
    """The request's headers plus the X-Forwarded-* ones API Gateway adds."""
    headers = list(request.headers)
    present = {name.lower() for name, _ in headers}
    added = {
        "X-Forwarded-For": request.source_ip,
        "X-Forwarded-Port": str(request.port),
        "X-Forwarded-Proto": "http",
    }
    headers += [(name, value) for name, value in added.items() if name.lower() not in present]
    return headers


def _body(raw: bytes) -> tuple[str | None, bool]:
    if not raw:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


def proxy_event(request: HttpRequest, match: RouteMatch, stage: str) -> dict[str, Any]:
    parts = urlsplit(request.target)
    headers = _with_forwarding_headers(request)
    header_maps = _multi_value(headers)
    query_maps = _multi_value(parse_qsl(parts.query, keep_blank_values=True))
    header_values = {name.lower(): value for name, value in headers}
    host = header_values.get("host", f"127.0.0.1:{request.port}")
    now = datetime.now(UTC)
    body, is_base64 = _body(request.body)
    return {
        "body": body,
        "resource": match.route.path,
        "path": parts.path,
        "httpMethod": request.method,
        "isBase64Encoded": is_base64,
        "queryStringParameters": query_maps[0] if query_maps else None,
        "multiValueQueryStringParameters": query_maps[1] if query_maps else None,
        "pathParameters": match.path_parameters or None,
        "stageVariables": None,
        "headers": header_maps[0] if header_maps else None,
        "multiValueHeaders": header_maps[1] if header_maps else None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "resourceId": secrets.token_hex(3),
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "requestTime": _request_time(now),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "accessKey": None,
                "sourceIp": request.source_ip,
                "principalOrgId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": header_values.get("user-agent"),
                "user": None,
            },
            # The path as called: this API is served at its root, as a custom domain mapped at
            # its root is (on the execute-api host, the path, and so this, begins with the stage).
            "path": parts.path,
            "resourcePath": match.route.path,
            "httpMethod": request.method,
            "apiId": LOCAL_API_ID,
            "protocol": request.protocol,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
            "extendedRequestId": base64.b64encode(secrets.token_bytes(12)).decode("ascii"),
        },
    }


def http_answer(response: Any) -> HttpAnswer | None:
    """The function's proxy answer as HTTP; None when it is not one (API Gateway answers 502)."""
    if not isinstance(response, Mapping):
        return None
    status = response.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return None
    single = response.get("headers") or {}
    multi = response.get("multiValueHeaders") or {}
    body = response.get("body")
    if not isinstance(single, Mapping) or not isinstance(multi, Mapping) or not isinstance(body, str | None):
        return None
    # Both maps are merged; a header named in multiValueHeaders takes its values from there only.
    headers = [(str(name), str(value)) for name, values in multi.items() for value in values]
    headers += [(str(name), str(value)) for name, value in single.items() if name not in multi]
    if body is None:
        return HttpAnswer(status, headers, b"")
    if response.get("isBase64Encoded"):
        try:
            return HttpAnswer(status, headers, base64.b64decode(body, validate=True))
        except ValueError:
            return None
    return HttpAnswer(status, headers, body.encode("utf-8"))
