"""The pages a one-click link answers with: plain HTML, no script, no cookie, nothing loaded from elsewhere.

A GET shows the masked address and one button that POSTs RFC 8058's field to the same URL (a
link scanner or a prefetch that follows the link changes nothing); the POST answers a
confirmation. The other pages say what went wrong without saying anything about HubSpot (whether
the address is known there is never revealed). Every page is a complete, accessible document
(language, title, heading, a real button) and carries a Content-Security-Policy that allows its
own inline style (by hash) and a form posting to its own origin, and nothing else; the address is
HTML-escaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from optout.domain.one_click import ONE_CLICK_FIELD, ONE_CLICK_VALUE, Refusal

CONTENT_TYPE = "text/html; charset=utf-8"
RETRY_AFTER_S = 30
_STYLE = (
    "body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;"
    "background:#f4f5f7;color:#1b1f24}"
    "main{max-width:34rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:.5rem}"
    "h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}"
    "button{font:inherit;font-weight:600;padding:.75rem 1.5rem;border:0;border-radius:.375rem;"
    "background:#0b57d0;color:#fff;cursor:pointer}"
    "button:focus-visible,a:focus-visible{outline:3px solid #1b1f24;outline-offset:3px}"
    "a{color:#0b57d0}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode("ascii")
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the URL is the link: never sent anywhere else
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True)
class Page:
    status: HTTPStatus
    title: str
    body: str  # HTML, escaped already

    def response(self, extra_headers: dict[str, str] | None = None) -> Response[Any]:
        document = (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="robots" content="noindex, nofollow">\n'
            f"<title>{html.escape(self.title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n<h1>{html.escape(self.title)}</h1>\n{self.body}\n</main>\n</body>\n</html>\n"
        )
        return Response(self.status, CONTENT_TYPE, document, {**SECURITY_HEADERS, **(extra_headers or {})})


def _address(masked: str) -> str:
    return f"<strong>{html.escape(masked, quote=True)}</strong>"


def confirm_page(masked: str, token: str) -> Page:
    """The GET: one button, posting RFC 8058's field to this same URL (the token, relative to it)."""
    return Page(
        HTTPStatus.OK,
        "Unsubscribe from all email",
        f"<p>Stop all email to {_address(masked)}?</p>\n"
        "<p>Nothing changes until you press the button.</p>\n"
        f'<form method="post" action="{html.escape(token, quote=True)}">\n'
        f'<input type="hidden" name="{ONE_CLICK_FIELD}" value="{ONE_CLICK_VALUE}">\n'
        '<button type="submit">Unsubscribe</button>\n</form>',
    )


def done_page(masked: str) -> Page:
    return Page(
        HTTPStatus.OK,
        "You are unsubscribed",
        f"<p>We will send no more email to {_address(masked)}.</p>\n"
        "<p>It can take a few minutes to reach every system.</p>",
    )


def refused_page(refusal: Refusal) -> Page:
    if refusal is Refusal.EXPIRED:
        return Page(
            HTTPStatus.GONE,
            "This unsubscribe link has expired",
            "<p>Nothing was changed. Use the unsubscribe link in a recent email from us, "
            "or reply to one and ask to be unsubscribed.</p>",
        )
    return Page(
        HTTPStatus.NOT_FOUND,
        "This unsubscribe link is not valid",
        "<p>Nothing was changed. The link may have been cut short or altered: use the unsubscribe "
        "link in a recent email from us, or reply to one and ask to be unsubscribed.</p>",
    )


def not_one_click_page(token: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> Page:
    """A POST without RFC 8058's field (or with too large a body): nothing changed; the page links back."""
    return Page(
        status,
        "Nothing was changed",
        "<p>This address unsubscribes with the button on its page.</p>\n"
        f'<p><a href="{html.escape(token, quote=True)}">Open the unsubscribe page</a></p>',
    )


def unavailable_page() -> Page:
    return Page(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "Please try again in a few minutes",
        "<p>Your request could not be taken just now, and nothing was changed.</p>",
    )


def retry_after() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_S)}
