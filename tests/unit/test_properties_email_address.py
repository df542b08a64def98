"""Properties of email validation, for any string: a verdict, never a crash, never a lost address."""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout.domain.addresses import (
    MAX_ADDRESS_LENGTH,
    MAX_LOCAL_LENGTH,
    InvalidEmailError,
    validate_email,
)

EXAMPLES = settings(max_examples=400, deadline=None)
DOMAINS = st.sampled_from(["example.com", "bücher.example", "例子.广告", "mail.example.co.uk"])
# Long enough that no error text could contain it by chance.
DISTINCT_LOCAL_PARTS = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=10, max_size=20)
UNPRINTABLE = st.sampled_from([" ", "\t", "\r\n", "\x00", "\u200b", "\u202e", "\u00a0", "\u2028"])


def verdict(address: str) -> str | InvalidEmailError:
    try:
        return validate_email(address)
    except InvalidEmailError as error:
        return error


@EXAMPLES
@given(st.text())
def test_any_string_is_returned_unchanged_or_refused_with_a_reason(address: str) -> None:
    # Given any string, when it is validated
    result = verdict(address)

    # Then it is refused with a reason (anything else raised would fail the test)
    if isinstance(result, InvalidEmailError):
        assert str(result)
        return
    # Or it is returned unchanged, and has the shape every usable address has
    assert result == address
    local, _, domain = address.rpartition("@")
    assert 0 < len(address) <= MAX_ADDRESS_LENGTH
    assert 0 < len(local.encode()) <= MAX_LOCAL_LENGTH
    assert "@" not in local
    assert "." in domain.strip(".")
    assert not any(unicodedata.category(char)[0] in {"C", "Z"} for char in address)


@EXAMPLES
@given(st.emails())
def test_every_rfc_5322_address_is_accepted(address: str) -> None:
    # Given an address Hypothesis builds to RFC 5322 (dot-atom local part, real TLD)
    # When it is validated, then it is accepted as it is: refusing one would lose an opt-out
    assert validate_email(address) == address


@EXAMPLES
@given(DISTINCT_LOCAL_PARTS, DOMAINS, UNPRINTABLE, st.data())
def test_a_refusal_never_repeats_the_address(
    local: str, domain: str, unprintable: str, data: st.DataObject
) -> None:
    # Given an address broken by an unprintable character at some position
    address = f"{local}@{domain}"
    position = data.draw(st.integers(0, len(address)))
    broken = address[:position] + unprintable + address[position:]

    # When it is validated, then the refusal names the problem but neither the address nor its local part
    with pytest.raises(InvalidEmailError) as refused:
        validate_email(broken)
    assert local not in str(refused.value)
    assert broken not in str(refused.value)
