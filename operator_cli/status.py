"""`status EMAIL`: a subscriber's unsubscribe-all status, read through the service's own API.

`GET {ApiUrl}/unsubscribe-all/{EMAIL as one percent-encoded segment}?businessUnitId=N`, signed
for execute-api: the service holds the HubSpot token, the operator only needs AWS credentials.
The answer is HubSpot's body: `results` lists the subscriber's wide statuses. Only a status for
the business unit asked about (the default brand, 0, when none is) or a portal-wide one counts,
by the function's own rule; another brand's opt-out is shown but does not make this one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from operator_cli.errors import OperationError, UsageError
from operator_cli.signed_http import HttpAnswer
from optout.domain.addresses import InvalidEmailError, validate_email
from optout.hubspot.responses import parse_unsubscribe_all_status

ROUTE = "unsubscribe-all"


def status_url(api_url: str, email: str, business_unit_id: int | None) -> str:
    """The route's URL; the address is one path segment, every reserved character encoded."""
    url = f"{api_url.rstrip('/')}/{ROUTE}/{quote(email, safe='')}"
    if business_unit_id is not None:
        url += "?" + urlencode({"businessUnitId": business_unit_id})
    return url


def checked_email(email: str) -> str:
    try:
        return validate_email(email.strip())
    except InvalidEmailError as error:
        raise UsageError(f"not an email address: {error}") from None


@dataclass(frozen=True)
class WideStatus:
    status: str
    kind: str
    business_unit_id: int | None
    timestamp: str


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    return value if isinstance(value, str) and value else "?"


def wide_statuses(body: Any) -> list[WideStatus]:
    results = body.get("results") if isinstance(body, Mapping) else None
    if not isinstance(results, list):
        raise OperationError("the API answered 200 without a `results` list")
    return [
        WideStatus(
            status=_text(item, "status"),
            kind=_text(item, "wideStatusType"),
            business_unit_id=item.get("businessUnitId")
            if isinstance(item.get("businessUnitId"), int)
            else None,
            timestamp=_text(item, "timestamp"),
        )
        for item in results
        if isinstance(item, Mapping)
    ]


def _scope(business_unit_id: int | None) -> str:
    return "the default business unit" if business_unit_id is None else f"business unit {business_unit_id}"


def describe(email: str, business_unit_id: int | None, body: Any) -> list[str]:
    """A few lines for people: unsubscribed or not, where, since when."""
    statuses = wide_statuses(body)
    unsubscribed = [wide for wide in statuses if wide.status == "UNSUBSCRIBED"]
    held = parse_unsubscribe_all_status(email, body).unsubscribed_for(business_unit_id)
    lines = [
        f"{email}: UNSUBSCRIBED from all email ({_scope(business_unit_id)})"
        if held
        else f"{email}: NOT unsubscribed from all email ({_scope(business_unit_id)})"
    ]
    for wide in unsubscribed:
        unit = wide.business_unit_id if wide.business_unit_id is not None else business_unit_id
        where = "portal-wide" if wide.kind == "PORTAL_WIDE" else _scope(unit)
        lines.append(f"  {where} ({wide.kind}), since {wide.timestamp}")
    return lines


def _error_message(body: Any) -> str:
    if isinstance(body, Mapping):
        category = body.get("category") or body.get("__type") or ""
        message = body.get("message") or body.get("Message") or ""
        correlation = body.get("correlationId")
        text = f"{category}: {message}".strip(": ") if category else str(message)
        return text + (f" (correlation id {correlation})" if correlation else "")
    return ""


def failure(answer: HttpAnswer, api_url: str) -> OperationError:
    """What a non-200 answer means for the operator."""
    try:
        body = json.loads(answer.text)
    except ValueError:
        body = None
    said = _error_message(body) or f"HTTP {answer.status}"
    if answer.status == 403:
        return OperationError(
            f"the API refused the signed request ({said}): check the AWS credentials (AWS_PROFILE) "
            "and that they may execute-api:Invoke this API"
        )
    if answer.status == 404:
        return OperationError(f"no such route under {api_url} ({said}): --api-url must be the stage's URL")
    if answer.status == 429 or answer.status >= 500:
        return OperationError(f"the service cannot answer now (HTTP {answer.status}: {said}); try again")
    return OperationError(f"the service refused the request (HTTP {answer.status}: {said})")
