"""One-click unsubscribe links (RFC 8058): what a link carries, and the rules for making and reading one.

A link is `<base URL>/one-click/<token>`. The token is the base64url (no padding) of a KMS
ciphertext, under the stack's own key and an encryption context naming the purpose and the
stack, of a compact JSON plaintext: the address, the business unit and when the link was issued.
So the URL, which mail servers, proxies and API Gateway log, holds no form of the address; a
token that was tampered with, cut short, or made with another key or for another stack does not
decrypt, and is refused before anything is queued.

A click is an opt-out like any other: it goes to the function's queue as a request whose
`idempotencyKey` is derived from the token (`one-click:<sha256 of the ciphertext>`), so however
often a link is clicked, HubSpot is called once for it. A link older than the stack's maximum age
is refused as expired.

Examples:
    >>> subject = LinkSubject("jane@example.com", 7, issued_at=1_700_000_000)
    >>> subject.to_plaintext()
    b'{"v":1,"e":"jane@example.com","b":7,"t":1700000000}'
    >>> LinkSubject.from_plaintext(subject.to_plaintext()) == subject
    True
    >>> ciphertext = bytes(range(250, 256)) * 3 + b"\\xff"
    >>> token_text(ciphertext)
    '-vv8_f7_-vv8_f7_-vv8_f7__w'
    >>> token_bytes("-vv8_f7_-vv8_f7_-vv8_f7__w") == ciphertext
    True
    >>> token_bytes("-vv8_f7_-vv8_f7_-vv8_f7__x")  # the same bytes, not written as links write them
    Traceback (most recent call last):
    ...
    optout.domain.one_click.LinkRefusedError: MALFORMED_TOKEN
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from optout.domain.addresses import InvalidEmailError, validate_email
from optout.domain.request import InvalidRequestError, UnsubscribeRequest, business_unit_id_from_json

PURPOSE = "one-click-unsubscribe"
ROUTE = "one-click"
PLAINTEXT_VERSION = 1
# RFC 8058's body, the only thing a one-click POST says.
ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"
IDEMPOTENCY_PREFIX = "one-click:"
DAY_S = 24 * 3600
# A ciphertext of the largest plaintext is well under 1 KiB; KMS takes at most 6,144 bytes.
MIN_TOKEN_CHARS = 16
MAX_TOKEN_CHARS = 2048
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


class Refusal(StrEnum):
    """Why a token is refused: the `reason` of the OneClickRefused metric."""

    MALFORMED = "MALFORMED_TOKEN"  # not a token's shape: never sent to KMS
    NOT_OURS = "INVALID_TOKEN"  # KMS refused it: tampered, cut short, another key or stack
    EXPIRED = "EXPIRED_TOKEN"  # older than the stack's maximum age


class LinkRefusedError(Exception):
    """The token names no link of this stack (or an expired one). Nothing was queued."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


class LinksUnavailableError(Exception):
    """KMS or the queue cannot be reached now (or the stack has no key): try again later."""


@dataclass(frozen=True)
class OneClickConfig:
    """The stack's link settings (template.yaml: the key, the stack's name, the custom domain)."""

    key_id: str | None  # the KMS key's ARN; None: links are not configured
    stack_name: str
    domain_name: str | None  # links name this host when given, else the host the API was called on
    max_age_days: int

    @property
    def encryption_context(self) -> dict[str, str]:
        return {"purpose": PURPOSE, "stack": self.stack_name}


@dataclass(frozen=True, slots=True)
class LinkSubject:
    """Who a link unsubscribes: the address, the business unit (None: HubSpot's default), when it was made."""

    subscriber: str
    business_unit_id: int | None
    issued_at: int  # seconds since the epoch

    def to_plaintext(self) -> bytes:
        fields: dict[str, object] = {"v": PLAINTEXT_VERSION, "e": self.subscriber}
        if self.business_unit_id is not None:
            fields["b"] = self.business_unit_id
        fields["t"] = self.issued_at
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_plaintext(cls, plaintext: bytes) -> LinkSubject:
        """What a decrypted token says; LinkRefusedError if it is not a link's plaintext."""
        try:
            fields = json.loads(plaintext.decode("utf-8"))
            if not isinstance(fields, dict) or fields.get("v") != PLAINTEXT_VERSION:
                raise ValueError("not a link's plaintext")
            issued_at = fields.get("t")
            if isinstance(issued_at, bool) or not isinstance(issued_at, int) or issued_at < 0:
                raise ValueError("no issue time")
            subscriber = fields.get("e")
            if not isinstance(subscriber, str):
                raise ValueError("no address")
            return cls(validate_email(subscriber), business_unit_id_from_json(fields.get("b")), issued_at)
        except (ValueError, InvalidEmailError, InvalidRequestError):
            raise LinkRefusedError(Refusal.NOT_OURS) from None

    def expires_at(self, max_age_days: int) -> int:
        return self.issued_at + max_age_days * DAY_S


def token_text(ciphertext: bytes) -> str:
    return base64.urlsafe_b64encode(ciphertext).decode("ascii").rstrip("=")


def token_bytes(token: str) -> bytes:
    """The ciphertext a token carries; LinkRefusedError (MALFORMED) unless it is one, written one way only."""
    if not MIN_TOKEN_CHARS <= len(token) <= MAX_TOKEN_CHARS or not _TOKEN.fullmatch(token):
        raise LinkRefusedError(Refusal.MALFORMED)
    try:
        ciphertext = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise LinkRefusedError(Refusal.MALFORMED) from None
    # base64 ignores the unused low bits of the last character: only the canonical text is a token,
    # so a link has one URL and one idempotency key.
    if token_text(ciphertext) != token:
        raise LinkRefusedError(Refusal.MALFORMED)
    return ciphertext


def idempotency_key(ciphertext: bytes) -> str:
    """The opt-out's identity: the same for every click of one link, never the address."""
    return IDEMPOTENCY_PREFIX + hashlib.sha256(ciphertext).hexdigest()


class LinkKey(Protocol):
    """Encrypts and decrypts link plaintexts (the stack's KMS key, with the link's encryption context)."""

    def seal(self, plaintext: bytes) -> bytes: ...

    def open(self, ciphertext: bytes) -> bytes:
        """The plaintext; LinkRefusedError (NOT_OURS) or LinksUnavailableError."""
        ...


class OptOutSender(Protocol):
    """Puts an opt-out on the function's queue; LinksUnavailableError if it cannot."""

    def send(self, request: UnsubscribeRequest) -> None: ...


@dataclass(frozen=True, slots=True)
class MintedLink:
    token: str
    subject: LinkSubject
    expires_at: int


@dataclass(frozen=True, slots=True)
class Click:
    """A click that was queued: who it unsubscribes, and the opt-out's identity."""

    subject: LinkSubject
    idempotency_key: str


class OneClickLinks:
    """Makes links, reads them (the page a GET shows) and carries out clicks (a POST)."""

    def __init__(
        self,
        key: LinkKey,
        queue: OptOutSender,
        max_age_days: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        self._queue = queue
        self._max_age_days = max_age_days
        self._clock = clock

    def mint(self, subscriber: str, business_unit_id: int | None) -> MintedLink:
        subject = LinkSubject(subscriber, business_unit_id, int(self._clock()))
        token = token_text(self._key.seal(subject.to_plaintext()))
        return MintedLink(token, subject, subject.expires_at(self._max_age_days))

    def read(self, token: str) -> LinkSubject:
        """Who the link unsubscribes; LinkRefusedError or LinksUnavailableError. Changes nothing."""
        return self._open(token_bytes(token))

    def click(self, token: str) -> Click:
        """Queues the link's opt-out; LinkRefusedError (nothing queued) or LinksUnavailableError."""
        ciphertext = token_bytes(token)
        subject = self._open(ciphertext)
        key = idempotency_key(ciphertext)
        self._queue.send(
            UnsubscribeRequest(subject.subscriber, subject.business_unit_id, idempotency_key=key)
        )
        return Click(subject, key)

    def _open(self, ciphertext: bytes) -> LinkSubject:
        subject = LinkSubject.from_plaintext(self._key.open(ciphertext))
        if self._clock() >= subject.expires_at(self._max_age_days):
            raise LinkRefusedError(Refusal.EXPIRED)
        return subject
