"""Which strings are email addresses HubSpot can be asked about."""

import pytest

from optout.domain.addresses import InvalidEmailError, validate_email

ACCEPTED = [
    "jane@example.com",
    "a/../../crm@x.com",
    "a?b@x.com",
    "a#b@x.com",
    "a%2F@x.com",
    "o'hara+tag@x.com",
    "JANE.Doe@Example.COM",
    "josé@example.com",
    "user@bücher.example",
    "x@" + "a" * 63 + ".com",
]
REJECTED = {
    "": "empty",
    "jane": "no @",
    "@example.com": "before @ is empty",
    "jane@": "domain is empty",
    "jane@localhost": "no dot",
    "jane@example..com": "empty label",
    "jane@-example.com": "invalid label",
    "jane@example.123": "numeric",
    "ja ne@example.com": "whitespace",
    "jane@example.com\r\n": "whitespace or control",
    "jane\u200b@example.com": "whitespace or control",
    "a@b@example.com": "more than one @",
    '"jane"@example.com': "unquoted",
    "jane(comment)@example.com": "unquoted",
    "a" * 65 + "@example.com": "longer than 64",
    "a@" + "b" * 250 + ".com": "longer than 254",
    "x@" + "a" * 64 + ".com": "invalid label",
    "jane@[127.0.0.1]": "invalid label",
}


@pytest.mark.parametrize("address", ACCEPTED)
def test_usable_addresses_are_returned_unchanged(address):
    assert validate_email(address) == address


@pytest.mark.parametrize(("address", "why"), REJECTED.items())
def test_unusable_addresses_are_refused_saying_why_without_repeating_them(address, why):
    with pytest.raises(InvalidEmailError) as raised:
        validate_email(address)
    assert why in str(raised.value)
    assert not address or address not in str(raised.value)
