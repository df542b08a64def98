"""The sandbox's request checks: query parameters, batch bodies and email addresses."""

import re

import pytest

from local.hubspot_sandbox.routes import Operation
from local.hubspot_sandbox.validation import MAX_INT64, email_problem, parse_call


def test_a_complete_query_parses() -> None:
    # GIVEN / WHEN every parameter given, valid
    call = parse_call(Operation.UNSUBSCRIBE_ALL, "channel=EMAIL&businessUnitId=42&verbose=TRUE", b"")

    # THEN it is read without errors
    assert (call.business_unit_id, call.verbose, call.inputs, call.errors) == (42, True, None, ())


def test_optional_parameters_take_their_defaults() -> None:
    # GIVEN / WHEN only the required channel
    call = parse_call(Operation.UNSUBSCRIBE_ALL, "channel=EMAIL", b"")

    # THEN businessUnitId is the default brand 0 and verbose is false
    assert (call.business_unit_id, call.verbose, call.errors) == (0, False, ())


@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("", "channel"),
        ("channel=", "channel"),
        ("channel=SMS", "channel"),
        ("channel=email", "channel"),
        ("channel=EMAIL&businessUnitId=abc", "businessUnitId"),
        ("channel=EMAIL&businessUnitId=-1", "businessUnitId"),
        ("channel=EMAIL&businessUnitId=1.5", "businessUnitId"),
        (f"channel=EMAIL&businessUnitId={MAX_INT64 + 1}", "businessUnitId"),
        ("channel=EMAIL&businessUnitId=%D9%A3", "businessUnitId"),
        ("channel=EMAIL&verbose=yes", "verbose"),
        ("channel=EMAIL&verbose=", "verbose"),
    ],
)
def test_each_bad_query_parameter_is_one_error_naming_it(query: str, location: str) -> None:
    # GIVEN / WHEN a query with one bad parameter
    call = parse_call(Operation.UNSUBSCRIBE_ALL, query, b"")

    # THEN exactly that parameter is reported
    assert [error.location for error in call.errors] == [location]


def test_several_bad_parameters_are_all_reported() -> None:
    # GIVEN / WHEN a query where everything is wrong
    call = parse_call(Operation.UNSUBSCRIBE_ALL, "channel=SMS&businessUnitId=x&verbose=maybe", b"")

    # THEN every problem is listed, and the unreadable business unit id is unknown
    assert [error.location for error in call.errors] == ["channel", "businessUnitId", "verbose"]
    assert call.business_unit_id is None


def test_verbose_is_ignored_where_the_operation_does_not_take_it() -> None:
    # GIVEN / WHEN a nonsense verbose on the batch read, which declares no verbose parameter
    call = parse_call(Operation.BATCH_READ_UNSUBSCRIBE_ALL, "channel=EMAIL&verbose=maybe", b'{"inputs": []}')

    # THEN it is not an error
    assert call.errors == ()


def test_a_batch_body_gives_its_inputs() -> None:
    # GIVEN / WHEN a well-formed batch body
    call = parse_call(Operation.BATCH_UNSUBSCRIBE_ALL, "channel=EMAIL", b'{"inputs": ["a@x.com", "b@x.com"]}')

    # THEN the inputs are read in order
    assert call.inputs == ("a@x.com", "b@x.com")
    assert call.errors == ()


@pytest.mark.parametrize(
    ("body", "location"),
    [
        (b"", "body"),
        (b"{not json", "body"),
        (b"\xff\xfe{}", "body"),
        (b"[]", "inputs"),
        (b"{}", "inputs"),
        (b'{"inputs": "a@x.com"}', "inputs"),
        (b'{"inputs": ["a@x.com", 7]}', "inputs"),
        (b'{"inputs": null}', "inputs"),
    ],
)
def test_a_malformed_batch_body_is_one_error(body: bytes, location: str) -> None:
    # GIVEN / WHEN a batch body that is not {"inputs": [strings]}
    call = parse_call(Operation.BATCH_UNSUBSCRIBE_ALL, "channel=EMAIL", body)

    # THEN there are no inputs and one error naming where the problem is
    assert call.inputs is None
    assert [error.location for error in call.errors] == [location]


@pytest.mark.parametrize(
    "address",
    [
        "crm@x.com",
        "o'hara+tag@x.com",
        "a/../../crm@x.com",
        "a?b@x.com",
        "a#b@x.com",
        "a%2F@x.com",
        '"quoted@local"@x.com',
        "jörg@exämple.de",
        f"{'a' * 64}@{'b' * 185}.com",
    ],
)
def test_unusual_but_valid_addresses_are_accepted(address: str) -> None:
    # GIVEN / WHEN an address with characters a URL treats specially
    # THEN the sandbox accepts it, as HubSpot does
    assert email_problem(address, None) is None


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("", "empty"),
        ("crm.x.com", "no @"),
        ("@x.com", "local part or domain is empty"),
        ("crm@", "local part or domain is empty"),
        ("crm@localhost", "no dot"),
        ("c rm@x.com", "whitespace or control"),
        ("crm@x.com\n", "whitespace or control"),
        ("crm\x00@x.com", "whitespace or control"),
        ("crm\x7f@x.com", "whitespace or control"),
        ("crm\u00a0@x.com", "whitespace or control"),
        (f"{'a' * 64}@{'b' * 186}.com", "longer than 254"),
        ("\ufffd@x.com", "UTF-8"),
    ],
)
def test_malformed_addresses_are_rejected_with_the_reason(address: str, reason: str) -> None:
    # GIVEN / WHEN a malformed address
    problem = email_problem(address, None)

    # THEN it is rejected, saying why and quoting the address
    assert problem is not None
    assert reason in problem
    assert repr(address) in problem


def test_the_configured_pattern_rejects_addresses_that_are_otherwise_valid() -> None:
    # GIVEN a pattern for addresses HubSpot should refuse (case-insensitive, as addresses are)
    rejected = re.compile(r"^bounce\+", re.IGNORECASE)

    # WHEN / THEN a matching address is refused and others pass
    assert "invalid_subscribers" in (email_problem("Bounce+1@x.com", rejected) or "")
    assert email_problem("ok+1@x.com", rejected) is None
