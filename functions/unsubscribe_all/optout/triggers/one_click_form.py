"""Is a POST to a one-click link RFC 8058's one-click request? Read from its body, within a small limit.

RFC 8058 section 3.2: the mailbox provider POSTs the single field `List-Unsubscribe=One-Click`,
as `multipart/form-data` (SHOULD) or `application/x-www-form-urlencoded` (MAY); the link's own page
posts the same field from its form. That field is what tells a one-click POST from any other
request that reaches the URL, so a body without it is refused (400), as is a body over
`MAX_BODY_BYTES` (413): the request is a few dozen bytes, a multipart one a few hundred.

Examples:
    >>> says_one_click("application/x-www-form-urlencoded", b"List-Unsubscribe=One-Click")
    True
    >>> says_one_click("text/plain", b"unsubscribe me")
    False
"""

from __future__ import annotations

import base64
import binascii
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from urllib.parse import parse_qs

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from optout.domain.one_click import ONE_CLICK_FIELD, ONE_CLICK_VALUE

MAX_BODY_BYTES = 2048
_URLENCODED = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


class BodyTooLargeError(Exception):
    """The body is over MAX_BODY_BYTES."""


def body_bytes(event: APIGatewayProxyEvent) -> bytes:
    """The request's body as sent (API Gateway passes text bodies as text, others as base64)."""
    body = event.body or ""
    if len(body) > 2 * MAX_BODY_BYTES:  # before decoding anything: base64 is 4/3 of the bytes
        raise BodyTooLargeError
    if event.is_base64_encoded:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return b""
    else:
        raw = body.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLargeError
    return raw


def says_one_click(content_type: str | None, body: bytes) -> bool:
    """Whether the body is the one field `List-Unsubscribe=One-Click` (among others, if any)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == _MULTIPART:
        return _multipart_says_one_click(content_type or "", body)
    if media_type == _URLENCODED:
        text = body.decode("utf-8", errors="replace")
        return ONE_CLICK_VALUE in parse_qs(text, keep_blank_values=True).get(ONE_CLICK_FIELD, [])
    # Neither form encoding: only the exact body RFC 8058 describes.
    return body.strip() == f"{ONE_CLICK_FIELD}={ONE_CLICK_VALUE}".encode()


def _multipart_says_one_click(content_type: str, body: bytes) -> bool:
    headers = f"Content-Type: {content_type}\r\n\r\n".encode("utf-8", errors="replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(headers + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        return False
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") != ONE_CLICK_FIELD:
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload.strip() == ONE_CLICK_VALUE.encode():
            return True
    return False
