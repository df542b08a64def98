"""Is a string an email address HubSpot can be asked about? Checked before any call is made.

Deliberately permissive in the local part: HubSpot must receive addresses such as
`a/../../crm@x.com` or `o'hara+tag@x.com` unchanged, and internationalised addresses (RFC 6531)
and domains (IDNA) are real. What is refused could never be delivered: whitespace and control
characters, quoting and other RFC 5322 specials, missing parts, impossible lengths or domains.
"""

from __future__ import annotations

import re
import unicodedata

MAX_ADDRESS_LENGTH = 254
MAX_LOCAL_LENGTH = 64
MAX_LABEL_LENGTH = 63
# RFC 5322 atext plus the dot; non-ASCII letters are allowed separately (RFC 6531).
_LOCAL_ASCII = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+")
_LABEL_ASCII = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")


class InvalidEmailError(ValueError):
    """Why a string is not a usable email address (the text never repeats the address)."""


def _has_unprintable(text: str) -> bool:
    # Cc control, Cf format (zero-width, bidi overrides), Z* separators (all whitespace), Cs/Co/Cn.
    return any(unicodedata.category(char)[0] in {"C", "Z"} for char in text)


def _check_local(local: str) -> None:
    if not local:
        raise InvalidEmailError("the part before @ is empty")
    if len(local.encode()) > MAX_LOCAL_LENGTH:
        raise InvalidEmailError(f"the part before @ is longer than {MAX_LOCAL_LENGTH} bytes")
    ascii_only = "".join(char for char in local if char.isascii())
    if ascii_only and not _LOCAL_ASCII.fullmatch(ascii_only):
        raise InvalidEmailError("the part before @ contains a character an address cannot hold unquoted")


def _check_domain(domain: str) -> None:
    if not domain:
        raise InvalidEmailError("the domain is empty")
    labels = domain.split(".")
    if len(labels) < 2:
        raise InvalidEmailError("the domain has no dot")
    for label in labels:
        if not label:
            raise InvalidEmailError("the domain has an empty label")
        try:
            encoded = label.encode("idna").decode("ascii") if not label.isascii() else label
        except UnicodeError:
            raise InvalidEmailError("the domain is not a valid internationalised domain name") from None
        if len(encoded) > MAX_LABEL_LENGTH or not _LABEL_ASCII.fullmatch(encoded):
            raise InvalidEmailError("the domain has an invalid label")
    if labels[-1].isdigit():
        raise InvalidEmailError("the domain's last label is numeric")


def validate_email(address: str) -> str:
    """Returns the address unchanged when usable; raises InvalidEmailError saying why not."""
    if not address:
        raise InvalidEmailError("the address is empty")
    if len(address) > MAX_ADDRESS_LENGTH:
        raise InvalidEmailError(f"the address is longer than {MAX_ADDRESS_LENGTH} characters")
    if _has_unprintable(address):
        raise InvalidEmailError("the address contains whitespace or control characters")
    local, at, domain = address.rpartition("@")
    if not at:
        raise InvalidEmailError("the address has no @")
    if "@" in local:
        raise InvalidEmailError("the address has more than one @")
    _check_local(local)
    _check_domain(domain)
    return address
