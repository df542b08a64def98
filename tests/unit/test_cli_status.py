"""`status`: the request URL and the summary of HubSpot's answer."""

from __future__ import annotations

import pytest

from operator_cli.errors import OperationError
from operator_cli.signed_http import region_of
from operator_cli.status import describe, status_url


@pytest.mark.parametrize(
    "api_url",
    [
        "https://abc.execute-api.eu-west-1.amazonaws.com/Prod/",
        "https://abc.execute-api.eu-west-1.amazonaws.com/Prod",
    ],
)
def test_the_address_is_one_segment_under_the_stage_whatever_it_holds(api_url):
    assert status_url(api_url, "o'hara+x/../y?z#w@x.com", 0) == (
        "https://abc.execute-api.eu-west-1.amazonaws.com/Prod/unsubscribe-all/"
        "o%27hara%2Bx%2F..%2Fy%3Fz%23w%40x.com?businessUnitId=0"
    )


def test_the_signing_region_comes_from_an_execute_api_host_else_the_target():
    assert region_of("https://abc.execute-api.eu-west-1.amazonaws.com/Prod/", "us-east-1") == "eu-west-1"
    assert region_of("https://api.example.com/unsub/", "us-east-1") == "us-east-1"
    assert region_of("http://127.0.0.1:3000/Prod/", "us-east-1") == "us-east-1"


def wide(status: str, kind: str, business_unit_id: int | None) -> dict[str, object]:
    return {"status": status, "wideStatusType": kind, "businessUnitId": business_unit_id, "timestamp": "t"}


def test_a_business_unit_wide_opt_out_names_the_unit():
    body = {"results": [wide("UNSUBSCRIBED", "BUSINESS_UNIT_WIDE", 7)]}
    assert describe("jane@example.com", 7, body) == [
        "jane@example.com: UNSUBSCRIBED from all email (business unit 7)",
        "  business unit 7 (BUSINESS_UNIT_WIDE), since t",
    ]


def test_another_brands_opt_out_is_shown_but_does_not_count():
    body = {"results": [wide("UNSUBSCRIBED", "BUSINESS_UNIT_WIDE", 3)]}
    assert describe("jane@example.com", 7, body) == [
        "jane@example.com: NOT unsubscribed from all email (business unit 7)",
        "  business unit 3 (BUSINESS_UNIT_WIDE), since t",
    ]


def test_a_portal_wide_opt_out_counts_for_every_business_unit():
    body = {"results": [wide("UNSUBSCRIBED", "PORTAL_WIDE", None)]}
    assert (
        describe("jane@example.com", 7, body)[0]
        == "jane@example.com: UNSUBSCRIBED from all email (business unit 7)"
    )


def test_without_a_business_unit_the_default_brand_counts():
    body = {"results": [wide("UNSUBSCRIBED", "BUSINESS_UNIT_WIDE", 0)]}
    assert describe("jane@example.com", None, body)[0] == (
        "jane@example.com: UNSUBSCRIBED from all email (the default business unit)"
    )


def test_a_body_without_results_is_an_operation_error():
    with pytest.raises(OperationError, match="results"):
        describe("jane@example.com", None, {"status": "COMPLETE"})
