"""Whole numbers from outside text: ASCII digits, bounded before they are converted."""

import pytest

from optout.domain.request import InvalidRequestError, business_unit_id_from_text
from optout.whole_numbers import whole_number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0", 0),
        ("007", 7),
        ("100", 100),
        ("0" * 5000 + "7", 7),
        ("101", None),
        ("9" * 5000, None),
        ("1" * 4301, None),
        ("", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1_0", None),
        ("²", None),
        ("٣", None),
    ],
)
def test_only_ascii_digits_up_to_the_maximum_are_a_whole_number(text, number):
    assert whole_number(text, maximum=100) == number


def test_a_business_unit_of_five_thousand_digits_is_refused_as_a_field_not_raised_from_int():
    with pytest.raises(InvalidRequestError) as refused:
        business_unit_id_from_text("9" * 5000)
    assert refused.value.field == "businessUnitId"
