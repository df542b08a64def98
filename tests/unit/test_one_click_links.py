"""One-click links' rules without AWS: the plaintext, the token, the age limit, the POST body, the pages.

The key here is a stand-in that keeps plaintexts in a table (KMS itself is exercised on moto in
tests/integration/test_one_click.py); the rules under test are the domain's own.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from http import HTTPStatus

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from hypothesis import given
from hypothesis import strategies as st

from optout.domain.one_click import (
    DAY_S,
    MAX_TOKEN_CHARS,
    LinkRefusedError,
    LinkSubject,
    OneClickLinks,
    Refusal,
    idempotency_key,
    token_bytes,
    token_text,
)
from optout.domain.request import UnsubscribeRequest
from optout.triggers.one_click_form import MAX_BODY_BYTES, BodyTooLargeError, body_bytes, says_one_click
from optout.triggers.one_click_pages import (
    CONTENT_SECURITY_POLICY,
    confirm_page,
    done_page,
    not_one_click_page,
    refused_page,
)


class TableKey:
    """Seals a plaintext as a random handle it remembers; anything else does not open."""

    def __init__(self) -> None:
        self.sealed: dict[bytes, bytes] = {}

    def seal(self, plaintext: bytes) -> bytes:
        handle = secrets.token_bytes(48)
        self.sealed[handle] = plaintext
        return handle

    def open(self, ciphertext: bytes) -> bytes:
        if ciphertext not in self.sealed:
            raise LinkRefusedError(Refusal.NOT_OURS)
        return self.sealed[ciphertext]


class ListQueue:
    def __init__(self) -> None:
        self.sent: list[UnsubscribeRequest] = []

    def send(self, request: UnsubscribeRequest) -> None:
        self.sent.append(request)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def links(max_age_days: int = 30, now: float = 1_700_000_000.0) -> tuple[OneClickLinks, ListQueue, Clock]:
    queue, clock = ListQueue(), Clock(now)
    return OneClickLinks(TableKey(), queue, max_age_days, clock), queue, clock


# --- the plaintext and the token -----------------------------------------------------------------


def test_the_plaintext_is_compact_json_with_the_address_unit_and_issue_time():
    # Given subjects with and without a business unit
    with_unit = LinkSubject("straße@bücher.example", 7, issued_at=1_700_000_000)
    without = LinkSubject("a@example.com", None, issued_at=5)
    # When they are written and read back
    # Then the JSON is compact, UTF-8, leaves an absent unit out, and reads back equal
    assert with_unit.to_plaintext() == '{"v":1,"e":"straße@bücher.example","b":7,"t":1700000000}'.encode()
    assert without.to_plaintext() == b'{"v":1,"e":"a@example.com","t":5}'
    assert LinkSubject.from_plaintext(with_unit.to_plaintext()) == with_unit
    assert LinkSubject.from_plaintext(without.to_plaintext()) == without


@pytest.mark.parametrize(
    "plaintext",
    [
        b"not json",
        b"[]",
        b'{"e":"a@example.com","t":5}',
        b'{"v":2,"e":"a@example.com","t":5}',
        b'{"v":1,"e":"not an address","t":5}',
        b'{"v":1,"e":"a@example.com","t":-1}',
        b'{"v":1,"e":"a@example.com","t":true}',
        b'{"v":1,"e":"a@example.com"}',
        b'{"v":1,"e":"a@example.com","b":-3,"t":5}',
        b"\xff\xfe",
    ],
)
def test_a_plaintext_that_is_not_a_links_is_refused(plaintext):
    with pytest.raises(LinkRefusedError) as refused:
        LinkSubject.from_plaintext(plaintext)
    assert refused.value.refusal is Refusal.NOT_OURS


def test_a_token_is_base64url_without_padding_and_has_one_spelling():
    # Given every length of ciphertext a token could carry, around its padding
    for length in range(12, 40):
        ciphertext = secrets.token_bytes(length)
        # When it is written as a token
        token = token_text(ciphertext)
        # Then it uses only the URL-safe alphabet, no padding, and reads back to the same bytes
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
        assert token_bytes(token) == ciphertext
        # And no other spelling of the same bytes is a token
        standard = base64.b64encode(ciphertext).decode()
        for other in {standard, standard.rstrip("="), token + "=" * (-len(token) % 4)} - {token}:
            with pytest.raises(LinkRefusedError):
                token_bytes(other)


@pytest.mark.parametrize(
    "token",
    ["", "A" * 15, "A" * (MAX_TOKEN_CHARS + 1), "abc/def+ghi=jklmnop", "A" * 17, "<script>alert(1)</script>"],
    ids=["empty", "too short", "too long", "standard alphabet", "impossible length", "markup"],
)
def test_a_malformed_token_is_refused_before_any_key_is_asked(token):
    key = TableKey()
    one_click = OneClickLinks(key, ListQueue(), 30)
    with pytest.raises(LinkRefusedError) as refused:
        one_click.read(token)
    assert refused.value.refusal is Refusal.MALFORMED


def test_the_opt_outs_identity_is_the_tokens_digest_never_the_address():
    ciphertext = b"\x01" * 32
    key = idempotency_key(ciphertext)
    assert key == "one-click:" + hashlib.sha256(ciphertext).hexdigest()
    assert len(key) <= 256


# --- minting, reading, clicking ------------------------------------------------------------------


def test_a_click_queues_the_subjects_opt_out_keyed_by_the_token():
    # Given a minted link
    one_click, queue, _ = links()
    minted = one_click.mint("jane@example.com", 12)
    # When it is read, then clicked twice
    subject = one_click.read(minted.token)
    first, second = one_click.click(minted.token), one_click.click(minted.token)
    # Then reading queued nothing, and each click queued the same request, with the same identity
    expected = UnsubscribeRequest("jane@example.com", 12, idempotency_key=first.idempotency_key)
    assert subject == minted.subject == first.subject
    assert queue.sent == [expected, expected]
    assert first.idempotency_key == second.idempotency_key == idempotency_key(token_bytes(minted.token))


def test_a_link_works_until_its_maximum_age_and_not_a_second_longer():
    # Given a link minted now, with a 30-day maximum age
    one_click, queue, clock = links(max_age_days=30)
    minted = one_click.mint("old@example.com", None)
    assert minted.expires_at == minted.subject.issued_at + 30 * DAY_S
    # When its age reaches the limit, less one second
    clock.now = minted.expires_at - 1
    # Then it still opens and queues
    one_click.click(minted.token)
    # And at the limit it is refused as expired, and nothing more is queued
    clock.now = minted.expires_at
    for use in (one_click.read, one_click.click):
        with pytest.raises(LinkRefusedError) as refused:
            use(minted.token)
        assert refused.value.refusal is Refusal.EXPIRED
    assert len(queue.sent) == 1


def test_a_token_the_key_did_not_seal_queues_nothing():
    one_click, queue, _ = links()
    with pytest.raises(LinkRefusedError) as refused:
        one_click.click(token_text(secrets.token_bytes(48)))
    assert refused.value.refusal is Refusal.NOT_OURS
    assert queue.sent == []


# --- the POST's body -----------------------------------------------------------------------------


def multipart(boundary: str, fields: dict[str, str], newline: str = "\r\n") -> bytes:
    disposition = 'Content-Disposition: form-data; name="{}"'
    parts = [
        f"--{boundary}{newline}{disposition.format(name)}{newline}{newline}{value}{newline}"
        for name, value in fields.items()
    ]
    return ("".join(parts) + f"--{boundary}--{newline}").encode()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"List-Unsubscribe=One-Click"),
        ("Application/X-WWW-Form-Urlencoded; charset=utf-8", b"List-Unsubscribe=One-Click"),
        ("application/x-www-form-urlencoded", b"utm=x&List-Unsubscribe=One-Click"),
        ("multipart/form-data; boundary=abc", multipart("abc", {"List-Unsubscribe": "One-Click"})),
        ('multipart/form-data; boundary="a b"', multipart("a b", {"List-Unsubscribe": "One-Click"})),
        ("multipart/form-data; boundary=x", multipart("x", {"List-Unsubscribe": "One-Click"}, "\n")),
        ("multipart/form-data; boundary=x", multipart("x", {"a": "1", "List-Unsubscribe": "One-Click"})),
        (None, b"List-Unsubscribe=One-Click\r\n"),
        ("text/plain", b"List-Unsubscribe=One-Click"),
    ],
)
def test_rfc_8058s_body_is_recognised_in_either_encoding(content_type, body):
    assert says_one_click(content_type, body) is True


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b""),
        ("application/x-www-form-urlencoded", b"List-Unsubscribe=one-click"),
        ("application/x-www-form-urlencoded", b"List-Unsubscribe"),
        ("multipart/form-data; boundary=abc", multipart("abc", {"List-Unsubscribe": "Yes"})),
        ("multipart/form-data; boundary=abc", multipart("xyz", {"List-Unsubscribe": "One-Click"})),
        ("multipart/form-data", multipart("abc", {"List-Unsubscribe": "One-Click"})),
        ("application/json", b'{"List-Unsubscribe": "One-Click"}'),
        (None, b""),
        ("text/plain", b"please unsubscribe me"),
    ],
)
def test_anything_else_is_not_a_one_click_request(content_type, body):
    assert says_one_click(content_type, body) is False


def event_with_body(body: str, *, base64_encoded: bool = False) -> APIGatewayProxyEvent:
    return APIGatewayProxyEvent({"body": body, "isBase64Encoded": base64_encoded, "headers": {}})


def test_the_body_is_read_within_its_limit_as_text_or_base64():
    limit = b"x" * MAX_BODY_BYTES
    assert body_bytes(event_with_body(limit.decode())) == limit
    assert body_bytes(event_with_body(base64.b64encode(limit).decode(), base64_encoded=True)) == limit
    for over in (limit + b"x", "é".encode() * (MAX_BODY_BYTES // 2 + 1)):
        with pytest.raises(BodyTooLargeError):
            body_bytes(event_with_body(over.decode()))
        with pytest.raises(BodyTooLargeError):
            body_bytes(event_with_body(base64.b64encode(over).decode(), base64_encoded=True))
    assert body_bytes(event_with_body("not base64!", base64_encoded=True)) == b""


# --- the pages -----------------------------------------------------------------------------------


def test_every_page_allows_only_its_own_inline_style_by_hash():
    pages = [
        confirm_page("j***@example.com", "A" * 40),
        done_page("j***@example.com"),
        refused_page(Refusal.NOT_OURS),
        refused_page(Refusal.EXPIRED),
        not_one_click_page("A" * 40),
    ]
    for page in pages:
        response = page.response()
        document = str(response.body)
        [style] = re.findall(r"<style>(.*?)</style>", document, re.DOTALL)
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert f"style-src 'sha256-{digest}'" in CONTENT_SECURITY_POLICY
        assert "<script" not in document
        assert re.search(r"<title>[^<]+</title>", document)
        assert document.count("<h1>") == 1


def test_what_a_page_shows_is_escaped():
    hostile = '"><img src=x onerror=alert(1)>@example.com'
    page = str(confirm_page(hostile, '"><b>').response().body)
    assert "<img" not in page
    assert html.escape(hostile, quote=True) in page
    assert 'action="&quot;&gt;&lt;b&gt;"' in page


def test_the_refusal_pages_statuses():
    assert refused_page(Refusal.EXPIRED).status is HTTPStatus.GONE
    assert refused_page(Refusal.NOT_OURS).status is HTTPStatus.NOT_FOUND
    assert refused_page(Refusal.MALFORMED).status is HTTPStatus.NOT_FOUND
    assert not_one_click_page("t").status is HTTPStatus.BAD_REQUEST


# --- anything at all -----------------------------------------------------------------------------


def _read(text: str) -> bytes | Refusal:
    try:
        return token_bytes(text)
    except LinkRefusedError as refused:
        return refused.refusal


@given(st.text(max_size=3000))
def test_any_text_is_a_token_or_refused_as_malformed_never_anything_else(text):
    read = _read(text)
    assert read is Refusal.MALFORMED or (isinstance(read, bytes) and token_text(read) == text)


@given(st.one_of(st.none(), st.text(max_size=200)), st.binary(max_size=MAX_BODY_BYTES))
def test_any_body_under_any_content_type_is_read_without_raising(content_type, body):
    assert says_one_click(content_type, body) in {True, False}
