"""Email addresses are masked wherever they would be logged."""

import pytest

from optout.masking import mask_email, mask_emails_in, mask_emails_in_text


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("jane.doe@example.com", "j***@example.com"),
        ("a/../../crm@x.com", "a***@x.com"),
        ("@example.com", "***@example.com"),
        ("no-at-sign", "***"),
    ],
)
def test_an_address_keeps_its_first_character_and_domain(address, masked):
    assert mask_email(address) == masked


def test_every_address_in_free_text_is_masked():
    text = "sent to jane@example.com, then o'hara+tag@x.com (and <bob@y.org>)"
    masked = mask_emails_in_text(text)
    assert masked == "sent to j***@example.com, then o***@x.com (and <b***@y.org>)"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("x jane@@example.com y", "x j***@example.com y"),
        ('"jane doe"@example.com', "j***@example.com"),
        ("a@b@example.com", "a***@example.com"),
        ("a/../../crm@x.com", "a***@x.com"),
    ],
)
def test_odd_and_broken_addresses_are_masked_whole(text, masked):
    assert mask_emails_in_text(text) == masked


def test_nested_values_and_objects_are_masked():
    value = {"a": ["x jane@example.com"], "b": 3, "c": None, "d": ValueError("for bob@y.org")}
    assert mask_emails_in(value) == {"a": ["x j***@example.com"], "b": 3, "c": None, "d": "for b***@y.org"}
