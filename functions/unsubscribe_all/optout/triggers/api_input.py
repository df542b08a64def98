"""What an API request says, read from API Gateway's proxy event with the domain's own rules.

REST APIs pass the path still percent-encoded, so a subscriber segment is decoded here, once.
A value that breaks a rule raises `ApiError` (or the domain's `InvalidRequestError`), which the
API answers as a 400 in HubSpot's error shape.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from optout.domain.addresses import InvalidEmailError, validate_email
from optout.domain.request import business_unit_id_from_text
from optout.hubspot.versions import PUBLISHED_VERSIONS
from optout.triggers.api_errors import ApiError
from optout.triggers.strict_json import decode_json

MAX_BODY_BYTES = 16 * 1024


def json_body(event: APIGatewayProxyEvent) -> Any:
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError.invalid("the body is not valid base64-encoded UTF-8", "body") from None
    if len(body.encode("utf-8", errors="surrogatepass")) > MAX_BODY_BYTES:
        raise ApiError.invalid(f"the body is larger than {MAX_BODY_BYTES} bytes", "body")
    return decode_json(body)


def subscriber_from_path(segment: str) -> str:
    try:
        return validate_email(unquote(segment, errors="strict"))
    except InvalidEmailError as error:
        raise ApiError.invalid(
            f"subscriberIdString is not a valid email address: {error}", "subscriberIdString"
        ) from None
    except UnicodeDecodeError:
        raise ApiError.invalid(
            "subscriberIdString is not valid percent-encoded UTF-8", "subscriberIdString"
        ) from None


def business_unit_id(query: Mapping[str, str]) -> int | None:
    value = query.get("businessUnitId")
    return None if value is None else business_unit_id_from_text(value)


def verbose(query: Mapping[str, str]) -> bool:
    value = query.get("verbose", "false").lower()
    if value not in {"true", "false"}:
        raise ApiError.invalid("verbose must be true or false", "verbose")
    return value == "true"


def facade_query(version: str, query: Mapping[str, str]) -> Mapping[str, str]:
    """HubSpot's query for a facade route: a version HubSpot serves, and `channel=EMAIL`."""
    if version not in PUBLISHED_VERSIONS:
        raise ApiError(HTTPStatus.NOT_FOUND, "OBJECT_NOT_FOUND", "unknown API version")
    if query.get("channel") != "EMAIL":
        raise ApiError.invalid("channel is required and must be EMAIL", "channel")
    return query


def batch_inputs(body: Any, limit: int) -> list[str]:
    inputs = body.get("inputs") if isinstance(body, Mapping) else None
    if not isinstance(inputs, list) or not all(isinstance(item, str) for item in inputs):
        raise ApiError.invalid('the body must be {"inputs": [email, ...]}', "inputs")
    if not inputs or len(inputs) > limit:
        raise ApiError.invalid(f"inputs must hold 1 to {limit} addresses", "inputs")
    return inputs
