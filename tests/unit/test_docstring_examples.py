"""The "Examples" in the docstrings of the function's entry points run, so they stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES_WITH_EXAMPLES = [
    "optout.outcomes",
    "optout.domain.request",
    "optout.domain.service",
    "optout.domain.unsubscribe_rule",
    "optout.domain.one_click",
    "optout.aws.idempotency_store",
    "optout.triggers.api",
    "optout.triggers.one_click_form",
    "optout.hubspot.subscribers",
    "optout.hubspot.rate_limit_headers",
    "optout.hubspot.daily_reset",
    "optout.printable",
    "optout.whole_numbers",
]


@pytest.mark.parametrize("name", MODULES_WITH_EXAMPLES)
def test_the_examples_in_a_modules_docstrings_hold(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
