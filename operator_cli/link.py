"""`link EMAIL [--business-unit N]`: a one-click unsubscribe link for the address, minted by the service.

`POST {ApiUrl}/one-click-links` with `{"inputs": [{"subscriberIdString": EMAIL, ...}]}`, signed for
execute-api: the service holds the key. The URL is the first line printed (a contract: scripts
read it), then the two mail headers RFC 8058 asks for, ready to paste; when it expires goes to
stderr. With `--json`, stdout is one document: `url`, `headers`, `expiresAt`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from operator_cli.errors import OperationError
from operator_cli.signed_http import HttpAnswer

ROUTE = "one-click-links"


def mint_url(api_url: str) -> str:
    return f"{api_url.rstrip('/')}/{ROUTE}"


def request_body(email: str, business_unit_id: int | None) -> bytes:
    entry: dict[str, Any] = {"subscriberIdString": email}
    if business_unit_id is not None:
        entry["businessUnitId"] = business_unit_id
    return json.dumps({"inputs": [entry]}).encode()


@dataclass(frozen=True)
class MintedLink:
    url: str
    headers: Mapping[str, str]
    expires_at: str


def minted_link(answer: HttpAnswer) -> MintedLink:
    """The one link of a 200 answer; OperationError when the answer is not one."""
    try:
        result = json.loads(answer.text)["results"][0]
        headers = result["headers"]
        link = MintedLink(
            str(result["url"]), {str(k): str(v) for k, v in headers.items()}, str(result["expiresAt"])
        )
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise OperationError("the API answered 200 without a link in it") from None
    return link


def describe(link: MintedLink) -> list[str]:
    """The URL first, then the mail headers."""
    return [link.url, *(f"{name}: {value}" for name, value in link.headers.items())]


def document(link: MintedLink) -> dict[str, Any]:
    """The link as `--json` prints it."""
    return {"command": "link", "url": link.url, "headers": dict(link.headers), "expiresAt": link.expires_at}
