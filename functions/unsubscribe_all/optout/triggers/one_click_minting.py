"""`POST /one-click-links`: what a producer asks for, and the links it gets back.

The body is `{"inputs": [{"subscriberIdString": ..., "businessUnitId": ...}, ...]}`, 1 to the
facade batch's limit of inputs, each checked with the function's own rules; one bad input refuses
the whole request (400, every bad input named in `errors[].in`), so a producer never gets links
for only part of a list. The answer has one result per input, in the same order.

A link names the stack's custom domain when it has one, else the host and stage the API was
called on: `https://<api id>.execute-api.<region>.amazonaws.com/<stage>/one-click/<token>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from optout.domain.addresses import InvalidEmailError, validate_email
from optout.domain.one_click import ONE_CLICK_FIELD, ONE_CLICK_VALUE, ROUTE, MintedLink
from optout.domain.request import InvalidRequestError, business_unit_id_from_json
from optout.triggers.api_errors import ApiError

MINT_ROUTE = "/one-click-links"
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?")


@dataclass(frozen=True, slots=True)
class LinkRequest:
    subscriber: str
    business_unit_id: int | None


def _input_errors(index: int, item: Any) -> tuple[LinkRequest | None, list[dict[str, str]]]:
    where = f"inputs[{index}]"
    if not isinstance(item, Mapping):
        return None, [{"message": "each input must be an object", "in": where}]
    errors: list[dict[str, str]] = []
    subscriber = item.get("subscriberIdString")
    if not isinstance(subscriber, str):
        errors.append({"message": "subscriberIdString is required", "in": f"{where}.subscriberIdString"})
    else:
        try:
            subscriber = validate_email(subscriber)
        except InvalidEmailError as error:
            errors.append(
                {"message": f"not a valid email address: {error}", "in": f"{where}.subscriberIdString"}
            )
    business_unit_id = None
    try:
        business_unit_id = business_unit_id_from_json(item.get("businessUnitId"))
    except InvalidRequestError as error:
        errors.append({"message": error.message, "in": f"{where}.businessUnitId"})
    if errors or not isinstance(subscriber, str):
        return None, errors
    return LinkRequest(subscriber, business_unit_id), []


def link_requests(body: Any, limit: int) -> list[LinkRequest]:
    """The inputs, each valid; ApiError (400) naming every input that is not."""
    inputs = body.get("inputs") if isinstance(body, Mapping) else None
    if not isinstance(inputs, list):
        raise ApiError.invalid('the body must be {"inputs": [{"subscriberIdString": ...}, ...]}', "inputs")
    if not inputs or len(inputs) > limit:
        raise ApiError.invalid(f"inputs must hold 1 to {limit} entries", "inputs")
    requests: list[LinkRequest] = []
    errors: list[dict[str, str]] = []
    for index, item in enumerate(inputs):
        request, problems = _input_errors(index, item)
        errors += problems
        if request is not None:
            requests.append(request)
    if errors:
        message = f"{len(errors)} input error(s): nothing was minted"
        raise ApiError(400, "VALIDATION_ERROR", message, errors)
    return requests


def link_base(event: APIGatewayProxyEvent, domain_name: str | None) -> str:
    """`https://host[/stage]`: the custom domain, else the host and stage this request came in on."""
    if domain_name is not None:
        return f"https://{domain_name}"
    context = event.request_context
    host = context.domain_name or ""
    if not _HOST.fullmatch(host):
        raise ApiError.invalid("the request's host is not a host name", "Host")
    # API Gateway's requestContext.path is the path as called: with the stage on the execute-api
    # host, without it on a custom domain mapped at its root.
    prefix = (context.path or "").removesuffix(MINT_ROUTE)
    scheme = "http" if event.headers.get("X-Forwarded-Proto") == "http" else "https"
    return f"{scheme}://{host}{prefix}"


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def link_url(base: str, token: str) -> str:
    return f"{base}/{ROUTE}/{token}"


def minted_answer(base: str, minted: list[MintedLink]) -> dict[str, Any]:
    results = []
    for link in minted:
        url = link_url(base, link.token)
        result: dict[str, Any] = {"subscriberIdString": link.subject.subscriber}
        if link.subject.business_unit_id is not None:
            result["businessUnitId"] = link.subject.business_unit_id
        result |= {
            "url": url,
            "issuedAt": _iso(link.subject.issued_at),
            "expiresAt": _iso(link.expires_at),
            "headers": {
                "List-Unsubscribe": f"<{url}>",
                "List-Unsubscribe-Post": f"{ONE_CLICK_FIELD}={ONE_CLICK_VALUE}",
            },
        }
        results.append(result)
    return {"results": results}
