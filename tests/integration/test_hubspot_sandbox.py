"""The local HubSpot sandbox over real sockets: behaviour, errors, limits, faults, admin API and CLI.

Requests go through `http.client`, which sends a request target exactly as given, so the raw paths
the sandbox logs can be compared with what was sent byte for byte.
"""

from __future__ import annotations

import http.client
import json
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from jsonschema import Draft202012Validator

from local.hubspot_sandbox import ALL_SCOPES, FaultKind, HubSpotSandbox, Quirk, SandboxConfig

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference"
VERSIONS = ("v4", "2026-03", "2026-09")
RATE_LIMIT_HEADERS = (
    "X-HubSpot-RateLimit-Max",
    "X-HubSpot-RateLimit-Remaining",
    "X-HubSpot-RateLimit-Interval-Milliseconds",
    "X-HubSpot-RateLimit-Daily",
    "X-HubSpot-RateLimit-Daily-Remaining",
)
READ = "communication_preferences.read"
WRITE = "communication_preferences.write"
READ_WRITE = "communication_preferences.read_write"
BATCH_READ = "communication_preferences.statuses.batch.read"
BATCH_WRITE = "communication_preferences.statuses.batch.write"
AWKWARD_SUBSCRIBERS = ["a/../../crm@x.com", "a?b@x.com", "a#b@x.com", "a%2F@x.com", "o'hara+tag@x.com"]
HTTP_FAULTS = [kind for kind in FaultKind if kind.http_status is not None]


@dataclass(frozen=True)
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: Any


class Client:
    """One keep-alive connection to the sandbox; targets are sent exactly as given."""

    def __init__(self, base_url: str, authorization: str | None = None) -> None:
        address = urlsplit(base_url)
        assert address.hostname is not None
        self.connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        self.authorization = authorization

    def request(self, method: str, target: str, body: Any = None) -> Response:
        headers = {"Authorization": self.authorization} if self.authorization else {}
        payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        if payload is not None:
            headers["Content-Type"] = "application/json"
        self.connection.request(method, target, body=payload, headers=headers)
        response = self.connection.getresponse()
        return Response(response.status, response.headers, json.loads(response.read()))

    def admin(self, method: str, endpoint: str, body: Any = None) -> Response:
        return self.request(method, f"/__sandbox/{endpoint}", body)

    def close(self) -> None:
        self.connection.close()


def single(
    subscriber: str,
    *,
    version: str = "v4",
    suffix: str = "/unsubscribe-all",
    query: str = "",
    verbose: bool = True,
) -> str:
    """A single-subscriber target with the address percent-encoded as one path segment.

    It asks for `verbose=true`, as a client that reads the answer must; `verbose=False` sends no
    verbose at all, HubSpot's terse default.
    """
    parts = ("channel=EMAIL", query, "verbose=true" if verbose else "")
    return (
        f"/communication-preferences/{version}/statuses/{quote(subscriber, safe='')}{suffix}"
        f"?{'&'.join(part for part in parts if part)}"
    )


def batch(*, read: bool = False, version: str = "v4", verbose: bool = True) -> str:
    """A batch target; the write asks for `verbose=true` unless `verbose=False` (the read takes none)."""
    suffix, query = ("/read", "channel=EMAIL") if read else ("", "channel=EMAIL")
    if verbose and not read:
        query += "&verbose=true"
    return f"/communication-preferences/{version}/statuses/batch/unsubscribe-all{suffix}?{query}"


def utc(timestamp: str) -> datetime:
    assert timestamp.endswith("Z"), timestamp
    return datetime.fromisoformat(timestamp.removesuffix("Z") + "+00:00")


def opted_out(sandbox: HubSpotSandbox) -> list[str]:
    return [opt_out["subscriberIdString"] for opt_out in sandbox.state()["optOuts"]]


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the awaited condition did not come about")
        time.sleep(0.01)


@pytest.fixture
def client(hubspot_sandbox: HubSpotSandbox, hubspot_token: str) -> Iterator[Client]:
    client = Client(hubspot_sandbox.base_url, f"Bearer {hubspot_token}")
    yield client
    client.close()


# --- Unsubscribe-all and its state ---------------------------------------------------------------


def test_the_first_unsubscribe_opts_out_of_everything_and_a_repeat_changes_nothing(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN a subscriber who never opted out
    before = datetime.now(UTC)

    # WHEN they are unsubscribed from all email twice
    first = client.request("POST", single("crm@x.com"))
    second = client.request("POST", single("crm@x.com"))

    # THEN the first call changed every subscription and the second none, both as of the first call
    after = datetime.now(UTC)
    assert (first.status, second.status) == (200, 200)
    assert first.body["status"] == "COMPLETE"
    assert {status["setStatusSuccessReason"] for status in first.body["results"]} == {
        "UNSUBSCRIBE_FROM_ALL_OCCURRED"
    }
    assert {status["setStatusSuccessReason"] for status in second.body["results"]} == {"NO_STATUS_CHANGE"}
    assert [status["subscriptionId"] for status in first.body["results"]] == [101, 102, 103]
    assert {status["status"] for status in first.body["results"]} == {"UNSUBSCRIBED"}
    opted_out_at = {utc(status["timestamp"]) for status in first.body["results"] + second.body["results"]}
    assert len(opted_out_at) == 1
    assert before - timedelta(milliseconds=1) <= opted_out_at.pop() <= after
    assert utc(first.body["startedAt"]) <= utc(first.body["completedAt"])
    assert hubspot_sandbox.state()["optOuts"][0]["subscriberIdString"] == "crm@x.com"


def test_reads_show_nothing_before_the_opt_out_and_the_opt_out_after(client: Client) -> None:
    # GIVEN a subscriber who has not opted out
    wide_before = client.request("GET", single("crm@x.com"))
    statuses_before = client.request("GET", single("crm@x.com", suffix=""))

    # WHEN they unsubscribe from all
    unsubscribed = client.request("POST", single("crm@x.com"))

    # THEN the wide status and each subscription status change from nothing to UNSUBSCRIBED
    wide_after = client.request("GET", single("crm@x.com"))
    statuses_after = client.request("GET", single("crm@x.com", suffix=""))
    assert wide_before.body["results"] == []
    assert {status["status"] for status in statuses_before.body["results"]} == {"NOT_SPECIFIED"}
    [wide] = wide_after.body["results"]
    assert (wide["status"], wide["wideStatusType"], wide["channel"]) == (
        "UNSUBSCRIBED",
        "PORTAL_WIDE",
        "EMAIL",
    )
    assert wide["timestamp"] == unsubscribed.body["results"][0]["timestamp"]
    assert [(status["subscriptionName"], status["status"]) for status in statuses_after.body["results"]] == [
        ("Marketing Information", "UNSUBSCRIBED"),
        ("Product Updates", "UNSUBSCRIBED"),
        ("One to One", "UNSUBSCRIBED"),
    ]


def test_subscribers_that_differ_only_in_case_are_one(client: Client) -> None:
    # GIVEN a subscriber opted out in one spelling
    client.request("POST", single("Crm@X.com"))

    # WHEN the same address is unsubscribed and read in another
    again = client.request("POST", single("crm@x.com"))
    read = client.request("GET", single("CRM@x.COM"))

    # THEN it is the same subscriber
    assert {status["setStatusSuccessReason"] for status in again.body["results"]} == {"NO_STATUS_CHANGE"}
    assert len(read.body["results"]) == 1


def test_subscribers_compare_by_lower_only_never_casefolded(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN two people whose addresses casefold alike but lower-case differently
    sharp_s, double_s = "straße@example.de", "strasse@example.de"

    # WHEN each is unsubscribed alone, then both in one batch with a case variant of one of them
    first = client.request("POST", single(sharp_s))
    second = client.request("POST", single(double_s))
    both = client.request("POST", batch(), {"inputs": [sharp_s, "STRASSE@example.de", double_s]})

    # THEN they are two subscribers, each opted out as its own string, and the batch names both once
    assert {s["setStatusSuccessReason"] for s in first.body["results"] + second.body["results"]} == {
        "UNSUBSCRIBE_FROM_ALL_OCCURRED"
    }
    assert sorted(opted_out(hubspot_sandbox)) == sorted([sharp_s, double_s])
    assert [result["subscriberIdString"] for result in both.body["results"]] == [
        sharp_s,
        "STRASSE@example.de",
    ]
    assert hubspot_sandbox.successful_unsubscribes() == {sharp_s: 2, double_s: 2}


def test_an_opt_out_applies_to_its_business_unit_only(client: Client) -> None:
    # GIVEN / WHEN a subscriber unsubscribed from brand 7
    unsubscribed = client.request("POST", single("crm@x.com", query="businessUnitId=7"))

    # THEN brand 7 shows a business-unit-wide opt-out naming it, the default brand nothing
    brand = client.request("GET", single("crm@x.com", query="businessUnitId=7"))
    brand_batch = client.request("POST", batch(read=True) + "&businessUnitId=7", {"inputs": ["crm@x.com"]})
    default_brand = client.request("GET", single("crm@x.com"))
    assert {status["businessUnitId"] for status in unsubscribed.body["results"]} == {7}
    assert [(s["wideStatusType"], s["businessUnitId"]) for s in brand.body["results"]] == [
        ("BUSINESS_UNIT_WIDE", 7)
    ]
    assert brand_batch.body["results"][0]["wideStatuses"] == brand.body["results"]
    assert default_brand.body["results"] == []


def test_the_default_brands_opt_out_is_portal_wide_and_names_business_unit_0(client: Client) -> None:
    # GIVEN / WHEN a subscriber unsubscribed without a businessUnitId
    client.request("POST", single("crm@x.com"))

    # THEN the read names a portal-wide opt-out of business unit 0
    [wide] = client.request("GET", single("crm@x.com")).body["results"]
    assert (wide["wideStatusType"], wide["businessUnitId"]) == ("PORTAL_WIDE", 0)


TERSE_KEYS = {"status", "results", "startedAt", "completedAt"}


@pytest.mark.parametrize("verbose_query", ["", "verbose=false", "verbose=False"])
def test_without_verbose_true_writes_and_reads_are_terse_but_writes_still_apply(
    hubspot_sandbox: HubSpotSandbox, client: Client, verbose_query: str
) -> None:
    # GIVEN / WHEN a single write, a batch write and a single read without verbose=true
    write = client.request("POST", single("a@x.com", query=verbose_query, verbose=False))
    target = batch(verbose=False) + (f"&{verbose_query}" if verbose_query else "")
    batch_write = client.request("POST", target, {"inputs": ["b@x.com"]})
    read = client.request("GET", single("a@x.com", query=verbose_query, verbose=False))

    # THEN each is the envelope's required fields with no results, complete, and the writes happened
    for response in (write, batch_write, read):
        assert response.status == 200
        assert set(response.body) == TERSE_KEYS
        assert (response.body["status"], response.body["results"]) == ("COMPLETE", [])
    assert sorted(opted_out(hubspot_sandbox)) == ["a@x.com", "b@x.com"]


def test_verbose_answers_carry_the_details(client: Client) -> None:
    # GIVEN / WHEN a verbose unsubscribe and a verbose read
    write = client.request("POST", single("b@x.com"))
    read = client.request("GET", single("b@x.com"))

    # THEN both say when they were requested, and the write names subscriptions and business units
    assert "requestedAt" in write.body
    assert "requestedAt" in read.body
    assert {"subscriptionName", "businessUnitId"} <= set(write.body["results"][0])
    assert len(read.body["results"]) == 1


@pytest.mark.parametrize("version", ["2026-03", "2026-09"])
def test_date_versioned_paths_serve_the_same_account(client: Client, version: str) -> None:
    # GIVEN / WHEN a subscriber unsubscribed through a date-versioned path
    unsubscribed = client.request("POST", single("crm@x.com", version=version))

    # THEN the v4 path sees the opt-out
    assert unsubscribed.status == 200
    assert len(client.request("GET", single("crm@x.com")).body["results"]) == 1


@pytest.mark.parametrize("version", ["v3", "2026-06", "2027-03", "latest"])
def test_unknown_paths_and_versions_are_404s_in_hubspots_error_shape(
    hubspot_sandbox: HubSpotSandbox, client: Client, version: str
) -> None:
    # GIVEN / WHEN calls to a version HubSpot does not publish and a path it does not serve
    bad_version = client.request("POST", single("crm@x.com", version=version))
    bad_path = client.request("GET", "/crm/v3/objects/contacts")

    # THEN both are 404 errors with a correlation id and the rate-limit headers, and nothing changed
    assert opted_out(hubspot_sandbox) == []
    for response in (bad_version, bad_path):
        assert response.status == 404
        assert (response.body["status"], response.body["category"]) == ("error", "OBJECT_NOT_FOUND")
        assert re.fullmatch(r"[0-9a-f-]{36}", response.body["correlationId"])
        assert response.headers["X-HubSpot-RateLimit-Max"] == "190"


def test_a_method_a_path_does_not_take_is_a_405_naming_the_allowed_ones(client: Client) -> None:
    # GIVEN / WHEN a DELETE of an opt-out
    response = client.request("DELETE", single("crm@x.com"))

    # THEN it is refused with the methods the path does take
    assert response.status == 405
    assert response.headers["Allow"] == "GET, POST"


# --- Raw paths -----------------------------------------------------------------------------------


@pytest.mark.parametrize("subscriber", AWKWARD_SUBSCRIBERS)
def test_an_encoded_address_is_one_subscriber_and_the_log_keeps_the_raw_path(
    hubspot_sandbox: HubSpotSandbox, client: Client, subscriber: str
) -> None:
    # GIVEN an address with characters that mean something in a URL, encoded as one segment
    target = single(subscriber)

    # WHEN it is unsubscribed
    response = client.request("POST", target)

    # THEN exactly that address opted out, and the log shows the raw path and the decoded subscriber
    assert response.status == 200
    assert {status["subscriberIdString"] for status in response.body["results"]} == {subscriber}
    assert opted_out(hubspot_sandbox) == [subscriber]
    [call] = hubspot_sandbox.calls()
    assert call.request.raw_path == target.partition("?")[0]
    assert call.request.subscriber == subscriber


def test_a_raw_plus_stays_a_plus(hubspot_sandbox: HubSpotSandbox, client: Client) -> None:
    # GIVEN / WHEN an address sent with its plus unencoded
    response = client.request(
        "POST", "/communication-preferences/v4/statuses/o'hara+tag@x.com/unsubscribe-all?channel=EMAIL"
    )

    # THEN the plus was not read as a space
    assert response.status == 200
    assert opted_out(hubspot_sandbox) == ["o'hara+tag@x.com"]


def test_an_unencoded_slash_makes_another_path(hubspot_sandbox: HubSpotSandbox, client: Client) -> None:
    # GIVEN an address whose slashes were not encoded
    raw_path = "/communication-preferences/v4/statuses/a/../../crm%40x.com/unsubscribe-all"

    # WHEN it is sent
    response = client.request("POST", f"{raw_path}?channel=EMAIL")

    # THEN it is not found, nobody opted out, and the log shows the path exactly as received
    assert response.status == 404
    assert opted_out(hubspot_sandbox) == []
    [call] = hubspot_sandbox.calls()
    assert (call.request.raw_path, call.request.subscriber, call.status) == (raw_path, None, 404)


# --- Batch calls ---------------------------------------------------------------------------------


def test_a_batch_unsubscribes_each_distinct_input_once(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN one subscriber who already opted out
    client.request("POST", single("old@x.com"))

    # WHEN a batch names them, a new subscriber twice in different case, and another
    response = client.request("POST", batch(), {"inputs": ["new@x.com", "old@x.com", "NEW@x.com", "b@x.com"]})

    # THEN each distinct subscriber has one result, in order, saying whether it changed anything
    assert response.status == 200
    reasons = {
        result["subscriberIdString"]: {status["setStatusSuccessReason"] for status in result["statuses"]}
        for result in response.body["results"]
    }
    assert list(reasons) == ["new@x.com", "old@x.com", "b@x.com"]
    assert reasons["old@x.com"] == {"NO_STATUS_CHANGE"}
    assert reasons["new@x.com"] == reasons["b@x.com"] == {"UNSUBSCRIBE_FROM_ALL_OCCURRED"}
    assert sorted(opted_out(hubspot_sandbox)) == ["b@x.com", "new@x.com", "old@x.com"]
    assert hubspot_sandbox.calls()[-1].request.inputs == ("new@x.com", "old@x.com", "NEW@x.com", "b@x.com")


def test_a_batch_read_gives_each_inputs_wide_status(client: Client) -> None:
    # GIVEN one opted-out subscriber and one who is not
    client.request("POST", single("out@x.com"))

    # WHEN both are read in one batch
    response = client.request("POST", batch(read=True), {"inputs": ["out@x.com", "in@x.com"]})

    # THEN only the opted-out one has a wide status
    assert response.status == 200
    assert [(r["subscriberIdString"], len(r["wideStatuses"])) for r in response.body["results"]] == [
        ("out@x.com", 1),
        ("in@x.com", 0),
    ]


def test_a_batchs_invalid_inputs_come_back_as_errors_inside_a_200(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN / WHEN a batch unsubscribe with two malformed addresses among valid ones
    response = client.request(
        "POST", batch(), {"inputs": ["ok@x.com", "no-at-sign", "ok2@x.com", "x@localhost"]}
    )

    # THEN it is a 200: results for the valid ones, which opted out, and one error naming each invalid one
    assert response.status == 200
    assert [result["subscriberIdString"] for result in response.body["results"]] == ["ok@x.com", "ok2@x.com"]
    assert response.body["numErrors"] == 2
    assert [(e["status"], e["category"], e["context"]) for e in response.body["errors"]] == [
        ("error", "VALIDATION_ERROR", {"subscriberIdString": ["no-at-sign"]}),
        ("error", "VALIDATION_ERROR", {"subscriberIdString": ["x@localhost"]}),
    ]
    assert all("not a valid email address" in error["message"] for error in response.body["errors"])
    assert sorted(opted_out(hubspot_sandbox)) == ["ok2@x.com", "ok@x.com"]


def test_a_terse_batch_still_lists_its_errors(client: Client) -> None:
    # GIVEN / WHEN a batch without verbose holding an invalid input
    response = client.request("POST", batch(verbose=False), {"inputs": ["ok@x.com", "bad"]})

    # THEN it has no results, but says which input failed
    assert (response.status, response.body["results"], response.body["numErrors"]) == (200, [], 1)
    assert response.body["errors"][0]["context"] == {"subscriberIdString": ["bad"]}


@pytest.mark.parametrize(("version", "status"), [("v4", 207), ("2026-03", 207), ("2026-09", 200)])
def test_a_batch_read_with_invalid_inputs_answers_as_its_version_declares(
    client: Client, version: str, status: int
) -> None:
    # GIVEN one opted-out subscriber
    client.request("POST", single("ok@x.com"))

    # WHEN a batch read mixes them with a malformed address
    response = client.request("POST", batch(read=True, version=version), {"inputs": ["ok@x.com", "bad"]})

    # THEN v4 and 2026-03 answer 207 (they declare it), 2026-09 a 200, both with the error inside
    assert response.status == status
    assert [result["subscriberIdString"] for result in response.body["results"]] == ["ok@x.com"]
    assert response.body["numErrors"] == 1
    assert response.body["errors"][0]["context"] == {"subscriberIdString": ["bad"]}


def test_more_inputs_than_the_cap_is_a_400(hubspot_sandbox: HubSpotSandbox, client: Client) -> None:
    # GIVEN a cap of two inputs per batch
    hubspot_sandbox.configure(batch_max_inputs=2)

    # WHEN three are sent
    response = client.request("POST", batch(), {"inputs": ["a@x.com", "b@x.com", "c@x.com"]})

    # THEN the call is refused and nothing applied
    assert response.status == 400
    assert response.body["errors"][0]["in"] == "inputs"
    assert "At most 2" in response.body["message"]
    assert opted_out(hubspot_sandbox) == []


def test_configured_invalid_subscribers_are_refused_like_malformed_ones(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN HubSpot set to refuse addresses the service's own validator accepts
    hubspot_sandbox.configure(invalid_subscribers=r"@blocked\.example$")

    # WHEN such an address is unsubscribed alone and in a batch
    single_response = client.request("POST", single("person@Blocked.example"))
    batch_response = client.request("POST", batch(), {"inputs": ["ok@x.com", "person@blocked.example"]})

    # THEN both refuse it as malformed, and only the batch's other input opted out
    assert (single_response.status, batch_response.status) == (400, 200)
    assert single_response.body["errors"][0]["in"] == "subscriberIdString"
    assert batch_response.body["errors"][0]["context"] == {"subscriberIdString": ["person@blocked.example"]}
    assert opted_out(hubspot_sandbox) == ["ok@x.com"]


# --- Quirks --------------------------------------------------------------------------------------


def test_quirks_are_off_by_default_and_configure_replaces_the_set(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN a sandbox as started: no quirks
    assert hubspot_sandbox.state()["config"]["quirks"] == []

    # WHEN two quirks are switched on, then the set replaced by another, over HTTP
    hubspot_sandbox.configure(quirks=["pending", Quirk.SUCCESS_STATUS])
    both = hubspot_sandbox.state()["config"]["quirks"]
    changed = client.admin("POST", "config", {"quirks": ["retry-after"]})

    # THEN the state reports each set in turn, and the second replaced the first
    assert both == ["pending", "success-status"]
    assert changed.body["config"]["quirks"] == ["retry-after"]
    assert hubspot_sandbox.state()["config"]["quirks"] == ["retry-after"]
    assert client.request("POST", single("a@x.com")).body["status"] == "COMPLETE"


def test_quirks_given_at_start_are_on_from_the_first_call_and_after_a_reset(hubspot_token: str) -> None:
    # GIVEN a sandbox started with a quirk
    config = SandboxConfig(tokens={hubspot_token: ALL_SCOPES}, quirks=["success-status"])
    with HubSpotSandbox(config) as sandbox:
        client = Client(sandbox.base_url, f"Bearer {hubspot_token}")

        # WHEN it is called, its quirks changed at run time, then reset
        first = client.request("POST", single("a@x.com")).body["status"]
        sandbox.configure(quirks=[])
        switched_off = client.request("POST", single("b@x.com")).body["status"]
        sandbox.reset()
        after_reset = client.request("POST", single("c@x.com")).body["status"]
        client.close()

    # THEN the start set applied, the change replaced it, and the reset brought it back
    assert (first, switched_off, after_reset) == ("SUCCESS", "COMPLETE", "SUCCESS")


@pytest.mark.parametrize("quirks", ["retry-after", ["no-such-quirk"]])
def test_a_quirk_set_must_be_a_list_of_known_names(client: Client, quirks: object) -> None:
    # GIVEN / WHEN a bare string or an unknown name is given
    refused = client.admin("POST", "config", {"quirks": quirks})

    # THEN it is refused, and no quirk is on
    assert refused.status == 400
    assert "quirk" in refused.body["message"]
    assert client.admin("GET", "state").body["config"]["quirks"] == []


@pytest.mark.parametrize("quirk_on", [False, True])
def test_the_retry_after_quirk_adds_retry_after_to_rolling_window_and_injected_429s(
    hubspot_sandbox: HubSpotSandbox, client: Client, quirk_on: bool
) -> None:
    # GIVEN a full 30 s window, and the quirk on or off
    hubspot_sandbox.configure(
        rate_limit=1, rate_window_ms=30_000, fault_retry_after_s=4, quirks=["retry-after"] if quirk_on else []
    )
    client.request("GET", single("a@x.com"))

    # WHEN a call meets the full window, and another an injected 429 once the window is lifted
    limited = client.request("GET", single("a@x.com"))
    hubspot_sandbox.configure(rate_limit=100)
    hubspot_sandbox.script_faults(["429"])
    injected = client.request("GET", single("a@x.com"))

    # THEN only with the quirk do they say Retry-After; the interval header is always there
    assert (limited.status, injected.status) == (429, 429)
    if quirk_on:
        assert 1 <= int(limited.headers["Retry-After"]) <= 30
        assert injected.headers["Retry-After"] == "4"
    else:
        assert "Retry-After" not in limited.headers
        assert "Retry-After" not in injected.headers
    assert limited.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "30000"


def test_no_quirk_gives_a_daily_429_a_retry_after(hubspot_sandbox: HubSpotSandbox, client: Client) -> None:
    # GIVEN a spent daily budget, with the retry-after quirk on
    hubspot_sandbox.configure(daily_limit=1, quirks=["retry-after"])
    client.request("GET", single("a@x.com"))

    # WHEN / THEN the next call is a DAILY 429 without Retry-After: seconds would not help
    limited = client.request("GET", single("a@x.com"))
    assert (limited.status, limited.body["policyName"]) == (429, "DAILY")
    assert "Retry-After" not in limited.headers


@pytest.mark.parametrize(("quirks", "status"), [([], 200), (["partial-207"], 207)])
def test_the_partial_207_quirk_answers_a_batch_with_errors_207(
    hubspot_sandbox: HubSpotSandbox, client: Client, quirks: list[str], status: int
) -> None:
    # GIVEN the quirk off or on
    hubspot_sandbox.configure(quirks=quirks)

    # WHEN a batch unsubscribe holds an invalid input, and another holds none
    with_error = client.request("POST", batch(), {"inputs": ["ok@x.com", "bad"]})
    without = client.request("POST", batch(), {"inputs": ["ok2@x.com"]})

    # THEN only the one with an error answers 207 with the quirk on, the same body either way
    assert (with_error.status, without.status) == (status, 200)
    assert [result["subscriberIdString"] for result in with_error.body["results"]] == ["ok@x.com"]
    assert with_error.body["numErrors"] == 1
    assert sorted(opted_out(hubspot_sandbox)) == ["ok2@x.com", "ok@x.com"]


@pytest.mark.parametrize("read", [False, True])
def test_the_reject_batch_quirk_refuses_a_batch_with_an_invalid_input_whole(
    hubspot_sandbox: HubSpotSandbox, client: Client, read: bool
) -> None:
    # GIVEN the quirk on (with partial-207 too, which it beats)
    hubspot_sandbox.configure(quirks=["reject-batch", "partial-207"])

    # WHEN a batch holds two malformed addresses among valid ones
    response = client.request("POST", batch(read=read), {"inputs": ["ok@x.com", "no-at-sign", "x@localhost"]})

    # THEN the whole call is a 400 naming each offending input, and nobody opted out
    assert response.status == 400
    assert response.body["category"] == "VALIDATION_ERROR"
    assert response.body["context"] == {"subscriberIdString": ["no-at-sign", "x@localhost"]}
    assert [error["context"] for error in response.body["errors"]] == [
        {"subscriberIdString": ["no-at-sign"]},
        {"subscriberIdString": ["x@localhost"]},
    ]
    assert opted_out(hubspot_sandbox) == []

    # WHEN the quirk is switched off
    hubspot_sandbox.configure(quirks=[])

    # THEN the same batch is served, with the invalid inputs as errors
    served = client.request("POST", batch(read=read), {"inputs": ["ok@x.com", "no-at-sign", "x@localhost"]})
    assert served.status in (200, 207)
    assert served.body["numErrors"] == 2


@pytest.mark.parametrize("quirk_on", [False, True])
def test_the_empty_results_quirk_answers_verbose_writes_with_no_results_though_they_applied(
    hubspot_sandbox: HubSpotSandbox, client: Client, quirk_on: bool
) -> None:
    # GIVEN the quirk off or on
    hubspot_sandbox.configure(quirks=["empty-results"] if quirk_on else [])

    # WHEN verbose writes are made, one of them a batch with an invalid input, and a verbose read
    single_write = client.request("POST", single("a@x.com"))
    batch_write = client.request("POST", batch(), {"inputs": ["b@x.com", "bad", "c@x.com"]})
    read = client.request("GET", single("a@x.com"))

    # THEN with the quirk the writes list no results (the batch's valid inputs are in neither results
    # nor errors), yet every change was made and the read still answers in full
    assert (single_write.status, batch_write.status) == (200, 200)
    assert len(single_write.body["results"]) == (0 if quirk_on else 3)
    assert [r["subscriberIdString"] for r in batch_write.body["results"]] == (
        [] if quirk_on else ["b@x.com", "c@x.com"]
    )
    assert [e["context"] for e in batch_write.body["errors"]] == [{"subscriberIdString": ["bad"]}]
    assert len(read.body["results"]) == 1
    assert sorted(opted_out(hubspot_sandbox)) == ["a@x.com", "b@x.com", "c@x.com"]


def test_the_canceled_quirk_cancels_each_subscribers_first_write_without_applying_it(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN the quirk on
    hubspot_sandbox.configure(quirks=["canceled"])

    # WHEN a subscriber is unsubscribed twice, and a batch of a new and a known subscriber sent twice
    first = client.request("POST", single("a@x.com"))
    after_first = opted_out(hubspot_sandbox)
    second = client.request("POST", single("A@x.com"))
    first_batch = client.request("POST", batch(), {"inputs": ["b@x.com", "a@x.com"]})
    second_batch = client.request("POST", batch(), {"inputs": ["b@x.com", "a@x.com"]})

    # THEN each first attempt is a 200 saying CANCELED that changed nothing; the retries work normally
    assert (first.status, first.body["status"], first.body["results"]) == (200, "CANCELED", [])
    assert after_first == []
    assert (second.body["status"], len(second.body["results"])) == ("COMPLETE", 3)
    assert (first_batch.status, first_batch.body["status"], first_batch.body["results"]) == (
        200,
        "CANCELED",
        [],
    )
    assert second_batch.body["status"] == "COMPLETE"
    assert [r["subscriberIdString"] for r in second_batch.body["results"]] == ["b@x.com", "a@x.com"]
    assert hubspot_sandbox.successful_unsubscribes() == {"a@x.com": 2, "b@x.com": 1}


def test_without_the_canceled_quirk_a_first_write_applies(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN / WHEN a first write with no quirk on
    response = client.request("POST", single("a@x.com"))

    # THEN it completed and applied
    assert response.body["status"] == "COMPLETE"
    assert opted_out(hubspot_sandbox) == ["a@x.com"]


@pytest.mark.parametrize(("quirks", "status"), [([], "COMPLETE"), (["pending"], "PENDING")])
def test_the_pending_quirk_answers_pending_though_the_change_was_made(
    hubspot_sandbox: HubSpotSandbox, client: Client, quirks: list[str], status: str
) -> None:
    # GIVEN the quirk off or on
    hubspot_sandbox.configure(quirks=quirks)

    # WHEN a single and a batch write are made, and a read
    single_write = client.request("POST", single("a@x.com"))
    batch_write = client.request("POST", batch(), {"inputs": ["b@x.com"]})
    read = client.request("GET", single("a@x.com"))

    # THEN the writes say PENDING with the quirk, the read is complete, and both changes were made
    assert (single_write.body["status"], batch_write.body["status"]) == (status, status)
    assert read.body["status"] == "COMPLETE"
    assert sorted(opted_out(hubspot_sandbox)) == ["a@x.com", "b@x.com"]


@pytest.mark.parametrize(("quirks", "status"), [([], "COMPLETE"), (["success-status"], "SUCCESS")])
def test_the_success_status_quirk_answers_success_as_hubspots_guide_shows(
    hubspot_sandbox: HubSpotSandbox, client: Client, quirks: list[str], status: str
) -> None:
    # GIVEN / WHEN the quirk off or on
    hubspot_sandbox.configure(quirks=quirks)

    # THEN the envelope's status is SUCCESS only with it, outside the documented enum
    assert client.request("POST", single("a@x.com")).body["status"] == status
    assert client.request("GET", single("a@x.com")).body["status"] == status


@pytest.mark.parametrize("business_unit_id", [0, 7])
def test_the_other_brand_statuses_quirk_lists_another_brands_opt_out_in_reads(
    hubspot_sandbox: HubSpotSandbox, client: Client, business_unit_id: int
) -> None:
    # GIVEN a subscriber who never opted out and one who did, in the brand asked about
    query = f"businessUnitId={business_unit_id}"
    client.request("POST", single("out@x.com", query=query))
    hubspot_sandbox.configure(quirks=["other-brand-statuses"])

    # WHEN both are read, alone and in a batch
    never = client.request("GET", single("never@x.com", query=query)).body["results"]
    out = client.request("GET", single("out@x.com", query=query)).body["results"]
    in_batch = client.request(
        "POST", f"{batch(read=True)}&{query}", {"inputs": ["never@x.com", "out@x.com"]}
    ).body["results"]

    # THEN each read lists first an UNSUBSCRIBED status of another business unit, which is all the
    # subscriber who never opted out has
    other = {"status": "UNSUBSCRIBED", "wideStatusType": "BUSINESS_UNIT_WIDE"}
    for statuses in (never, out, in_batch[0]["wideStatuses"], in_batch[1]["wideStatuses"]):
        assert {key: statuses[0][key] for key in other} == other
        assert statuses[0]["businessUnitId"] != business_unit_id
    assert len(never) == 1
    assert [s["businessUnitId"] for s in out[1:]] == [business_unit_id]

    # WHEN the quirk is switched off
    hubspot_sandbox.configure(quirks=[])

    # THEN only the brand asked about is listed
    assert client.request("GET", single("never@x.com", query=query)).body["results"] == []
    assert [
        s["businessUnitId"] for s in client.request("GET", single("out@x.com", query=query)).body["results"]
    ] == [business_unit_id]


@pytest.mark.parametrize("quirk_on", [False, True])
def test_the_already_unsubscribed_400_quirk_refuses_a_repeated_single_unsubscribe(
    hubspot_sandbox: HubSpotSandbox, client: Client, quirk_on: bool
) -> None:
    # GIVEN the quirk off or on, and a subscriber unsubscribed once
    hubspot_sandbox.configure(quirks=["already-unsubscribed-400"] if quirk_on else [])
    first = client.request("POST", single("a@x.com"))

    # WHEN they are unsubscribed again, alone and in a batch
    again = client.request("POST", single("A@x.com"))
    in_batch = client.request("POST", batch(), {"inputs": ["a@x.com"]})

    # THEN with the quirk the single repeat is a 400 saying so (the opt-out stands); the batch is not affected
    assert first.status == 200
    if quirk_on:
        assert (again.status, again.body["category"]) == (400, "VALIDATION_ERROR")
        assert "already unsubscribed" in again.body["message"]
    else:
        assert again.status == 200
        assert {s["setStatusSuccessReason"] for s in again.body["results"]} == {"NO_STATUS_CHANGE"}
    assert in_batch.status == 200
    assert opted_out(hubspot_sandbox) == ["a@x.com"]


# --- Authentication and scopes -------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bearer unknown-token", "Basic dXNlcjpwYXNz", "Bearer "])
def test_a_missing_or_unknown_token_is_a_401_that_costs_nothing(
    hubspot_sandbox: HubSpotSandbox, authorization: str | None
) -> None:
    # GIVEN a client without a valid token
    stranger = Client(hubspot_sandbox.base_url, authorization)

    # WHEN it tries to unsubscribe someone
    response = stranger.request("POST", single("crm@x.com"))

    # THEN it is refused as unauthenticated, with the rate-limit headers, and nothing is counted
    assert response.status == 401
    assert (response.body["status"], response.body["category"]) == ("error", "INVALID_AUTHENTICATION")
    assert response.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "625000"
    assert opted_out(hubspot_sandbox) == []
    stranger.close()


def test_a_revoked_token_is_a_401_and_tokens_can_be_added_and_replaced(
    hubspot_sandbox: HubSpotSandbox, client: Client, hubspot_token: str
) -> None:
    # GIVEN a working token
    assert client.request("GET", single("a@x.com")).status == 200

    # WHEN it is revoked, and another added
    hubspot_sandbox.revoke_token(hubspot_token)
    hubspot_sandbox.add_token("reader-token", [READ])
    reader = Client(hubspot_sandbox.base_url, "Bearer reader-token")

    # THEN the revoked one is refused and the new one works
    assert client.request("GET", single("a@x.com")).status == 401
    assert reader.request("GET", single("a@x.com")).status == 200

    # WHEN the token set is replaced
    hubspot_sandbox.set_tokens({"only-token": [READ]})

    # THEN only the new set is accepted
    assert reader.request("GET", single("a@x.com")).status == 401
    reader.close()


@pytest.mark.parametrize(
    ("scopes", "method", "target", "required"),
    [
        ([READ], "POST", single("a@x.com"), [WRITE, READ_WRITE]),
        ([WRITE, BATCH_READ], "GET", single("a@x.com"), [READ, READ_WRITE]),
        ([WRITE, BATCH_READ], "GET", single("a@x.com", suffix=""), [READ, READ_WRITE]),
        ([READ_WRITE], "POST", batch(), [BATCH_WRITE]),
        ([READ_WRITE, BATCH_WRITE], "POST", batch(read=True), [BATCH_READ]),
    ],
)
def test_a_token_without_the_operations_scope_is_a_403_listing_it(
    hubspot_sandbox: HubSpotSandbox, scopes: list[str], method: str, target: str, required: list[str]
) -> None:
    # GIVEN a token with other scopes only
    hubspot_sandbox.add_token("narrow-token", scopes)
    narrow = Client(hubspot_sandbox.base_url, "Bearer narrow-token")

    # WHEN it calls an operation that needs another scope
    response = narrow.request(method, target, {"inputs": ["a@x.com"]} if "batch" in target else None)

    # THEN it is refused, listing the granular scopes that would do, and nothing changed
    assert response.status == 403
    assert response.body["category"] == "MISSING_SCOPES"
    assert response.body["errors"][0]["context"]["requiredGranularScopes"] == required
    assert opted_out(hubspot_sandbox) == []
    narrow.close()


def test_the_token_never_appears_in_the_log_state_or_answers(
    hubspot_sandbox: HubSpotSandbox, client: Client, hubspot_token: str
) -> None:
    # GIVEN / WHEN calls that succeed and fail
    answers = [
        client.request("POST", single("a@x.com")).body,
        client.request("POST", single("bad")).body,
        client.admin("GET", "calls").body,
        client.admin("GET", "state").body,
    ]

    # THEN the token is nowhere to be seen
    shown = json.dumps(answers) + repr(hubspot_sandbox) + repr(hubspot_sandbox.calls())
    assert hubspot_token not in shown


# --- Validation ----------------------------------------------------------------------------------


INVALID_REQUESTS = {
    "no channel": ("/communication-preferences/v4/statuses/a%40x.com/unsubscribe-all", None, "channel"),
    "another channel": (single("a@x.com").replace("EMAIL", "SMS"), None, "channel"),
    "text business unit": (single("a@x.com", query="businessUnitId=abc"), None, "businessUnitId"),
    "negative business unit": (single("a@x.com", query="businessUnitId=-1"), None, "businessUnitId"),
    "business unit past int64": (single("a@x.com", query=f"businessUnitId={2**63}"), None, "businessUnitId"),
    "verbose not a bool": (single("a@x.com", query="verbose=yes", verbose=False), None, "verbose"),
    "empty address": (single(""), None, "subscriberIdString"),
    "no @": (single("no-at-sign"), None, "subscriberIdString"),
    "empty local part": (single("@x.com"), None, "subscriberIdString"),
    "empty domain": (single("a@"), None, "subscriberIdString"),
    "domain without a dot": (single("a@localhost"), None, "subscriberIdString"),
    "space": (single("a b@x.com"), None, "subscriberIdString"),
    "tab": (single("a\tb@x.com"), None, "subscriberIdString"),
    "control character": (single("a\x00@x.com"), None, "subscriberIdString"),
    "longer than 254": (single("a" * 250 + "@x.com"), None, "subscriberIdString"),
    "body not JSON": (batch(), b"{not json", "body"),
    "no body": (batch(read=True), b"", "body"),
    "no inputs": (batch(), {"emails": ["a@x.com"]}, "inputs"),
    "inputs not a list": (batch(), {"inputs": "a@x.com"}, "inputs"),
    "an input not a string": (batch(), {"inputs": ["a@x.com", 1]}, "inputs"),
}


@pytest.mark.parametrize("case", list(INVALID_REQUESTS))
def test_each_invalid_request_is_a_400_naming_where_and_changes_nothing(
    hubspot_sandbox: HubSpotSandbox, client: Client, case: str
) -> None:
    # GIVEN / WHEN an invalid request
    target, body, location = INVALID_REQUESTS[case]
    response = client.request("POST", target, body)

    # THEN it is a validation error naming the field, and nobody opted out
    assert response.status == 400
    assert (response.body["status"], response.body["category"]) == ("error", "VALIDATION_ERROR")
    assert response.body["errors"][0]["in"] == location
    assert opted_out(hubspot_sandbox) == []
    assert hubspot_sandbox.calls()[-1].status == 400


# --- Rate limits ---------------------------------------------------------------------------------


def test_every_api_answer_carries_the_rate_limit_headers(client: Client) -> None:
    # GIVEN / WHEN two calls
    first = client.request("POST", single("a@x.com"))
    second = client.request("GET", single("a@x.com"))

    # THEN each says the limits and what remains after it
    assert [first.headers[name] for name in RATE_LIMIT_HEADERS] == ["190", "189", "10000", "625000", "624999"]
    assert [second.headers[name] for name in RATE_LIMIT_HEADERS] == [
        "190",
        "188",
        "10000",
        "625000",
        "624998",
    ]


RATE_LIMIT_BODY_KEYS = {
    "status", "message", "errorType", "correlationId", "policyName", "groupName", "requestId", "category",
}  # fmt: skip


def test_a_full_window_is_a_429_in_hubspots_documented_shape_that_costs_nothing(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN two calls per minute, both used
    hubspot_sandbox.configure(rate_limit=2, rate_window_ms=60_000)
    client.request("GET", single("a@x.com"))
    client.request("GET", single("a@x.com"))

    # WHEN two more calls come, one of them a write
    limited = client.request("POST", single("a@x.com"))
    again = client.request("GET", single("a@x.com"))

    # THEN both are refused under the rolling policy in HubSpot's documented body, without Retry-After
    # (HubSpot documents none), and neither was counted
    assert (limited.status, again.status) == (429, 429)
    assert set(limited.body) == RATE_LIMIT_BODY_KEYS
    assert (limited.body["status"], limited.body["errorType"]) == ("error", "RATE_LIMIT")
    assert limited.body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited.body["message"] == "You have reached your ten_secondly_rolling limit."
    assert "ten-secondly" in limited.body["groupName"]
    assert re.fullmatch(r"[0-9a-f-]{36}", limited.body["correlationId"])
    assert limited.body["requestId"] != again.body["requestId"]
    assert "Retry-After" not in limited.headers
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert limited.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "60000"
    assert again.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "624998"
    assert opted_out(hubspot_sandbox) == []


def test_a_spent_daily_budget_is_a_daily_429_without_retry_after(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN a daily budget of one call, spent
    hubspot_sandbox.configure(daily_limit=1)
    client.request("GET", single("a@x.com"))

    # WHEN another call comes
    limited = client.request("POST", single("a@x.com"))

    # THEN it is refused under the daily policy, with nothing to wait for in seconds
    assert limited.status == 429
    assert set(limited.body) == RATE_LIMIT_BODY_KEYS
    assert (limited.body["policyName"], limited.body["message"]) == (
        "DAILY",
        "You have reached your daily limit.",
    )
    assert "Retry-After" not in limited.headers
    assert limited.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    assert opted_out(hubspot_sandbox) == []


# --- Latency and faults --------------------------------------------------------------------------


def test_latency_is_added_before_answering(hubspot_sandbox: HubSpotSandbox, client: Client) -> None:
    # GIVEN 150 ms of latency
    hubspot_sandbox.configure(latency_ms=150, jitter_ms=20)

    # WHEN a call is made
    started = time.monotonic()
    response = client.request("GET", single("a@x.com"))

    # THEN the answer took at least that long
    assert response.status == 200
    assert time.monotonic() - started >= 0.15


@pytest.mark.parametrize("fault", HTTP_FAULTS)
def test_an_injected_http_fault_answers_with_its_status_and_changes_nothing(
    hubspot_sandbox: HubSpotSandbox, client: Client, fault: FaultKind
) -> None:
    # GIVEN the next call scripted to fail, with a 3 s Retry-After for faults that send one
    hubspot_sandbox.configure(fault_retry_after_s=3)
    hubspot_sandbox.script_faults([fault])

    # WHEN a subscriber is unsubscribed
    response = client.request("POST", single("a@x.com"))

    # THEN the fault is the answer, in HubSpot's error shape, and nobody opted out; only a 477 says
    # Retry-After, as documented (a 429 does with the retry-after quirk)
    assert response.status == fault.http_status
    assert response.body["status"] == "error"
    expected_retry_after = "3" if fault is FaultKind.MIGRATING else None
    assert response.headers.get("Retry-After") == expected_retry_after
    assert opted_out(hubspot_sandbox) == []
    assert (hubspot_sandbox.calls()[-1].status, hubspot_sandbox.calls()[-1].fault) == (
        fault.http_status,
        fault.value,
    )

    # WHEN the call is retried
    # THEN it succeeds
    assert client.request("POST", single("a@x.com")).status == 200


def test_an_injected_429_looks_like_a_rolling_window_limit(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN / WHEN a scripted 429, then another with the retry-after quirk on
    hubspot_sandbox.script_faults(["429"])
    response = client.request("POST", single("a@x.com"))
    hubspot_sandbox.configure(quirks=["retry-after"])
    hubspot_sandbox.script_faults(["429"])
    with_quirk = client.request("POST", single("a@x.com"))

    # THEN its body is HubSpot's documented rolling-window limit, without Retry-After unless the quirk
    # adds the default 1 s
    assert set(response.body) == RATE_LIMIT_BODY_KEYS
    assert (response.body["policyName"], response.body["errorType"]) == ("TEN_SECONDLY_ROLLING", "RATE_LIMIT")
    assert "Retry-After" not in response.headers
    assert with_quirk.headers["Retry-After"] == "1"


def test_a_dropped_call_closes_the_connection_without_answer_or_change(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN the next call scripted to be dropped
    hubspot_sandbox.script_faults(["drop"])

    # WHEN a subscriber is unsubscribed
    with pytest.raises(ConnectionError):
        client.request("POST", single("a@x.com"))

    # THEN nothing changed, the log says so, and the client can reconnect
    assert opted_out(hubspot_sandbox) == []
    assert (hubspot_sandbox.calls()[-1].status, hubspot_sandbox.calls()[-1].fault) == (None, "drop")
    assert client.request("GET", single("a@x.com")).status == 200


def test_a_timed_out_call_hangs_then_closes_without_answer_or_change(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN the next call scripted to hang for 0.3 s
    hubspot_sandbox.configure(timeout_hang_s=0.3)
    hubspot_sandbox.script_faults(["timeout"])

    # WHEN a subscriber is unsubscribed
    started = time.monotonic()
    with pytest.raises(ConnectionError):
        client.request("POST", single("a@x.com"))

    # THEN the connection closed after the hang, with no answer, and nobody opted out
    assert time.monotonic() - started >= 0.3
    assert opted_out(hubspot_sandbox) == []
    assert (hubspot_sandbox.calls()[-1].status, hubspot_sandbox.calls()[-1].fault) == (None, "timeout")


def test_stopping_ends_a_hanging_call_at_once(hubspot_sandbox: HubSpotSandbox, client: Client) -> None:
    # GIVEN a call hanging for the default 30 s
    hubspot_sandbox.script_faults(["timeout"])
    outcomes: list[BaseException] = []

    def call() -> None:
        try:
            client.request("POST", single("a@x.com"))
        except ConnectionError as error:
            outcomes.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    wait_until(lambda: len(hubspot_sandbox.calls()) == 1)

    # WHEN the sandbox stops
    started = time.monotonic()
    hubspot_sandbox.stop()
    caller.join(timeout=5)

    # THEN the hang ended promptly, without an answer
    assert time.monotonic() - started < 5
    assert not caller.is_alive()
    assert len(outcomes) == 1


def test_a_slow_call_is_delayed_then_applied_and_answered(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN the next call scripted to be slow by 0.2 s
    hubspot_sandbox.configure(slow_delay_s=0.2)
    hubspot_sandbox.script_faults(["slow"])

    # WHEN a subscriber is unsubscribed
    started = time.monotonic()
    response = client.request("POST", single("a@x.com"))

    # THEN it answered normally after the delay, and the change happened
    assert response.status == 200
    assert time.monotonic() - started >= 0.2
    assert opted_out(hubspot_sandbox) == ["a@x.com"]
    assert (hubspot_sandbox.calls()[-1].status, hubspot_sandbox.calls()[-1].fault) == (200, "slow")


def test_fault_rates_with_a_seed_replay_the_same_faults(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN half of all calls failing with 500, seeded
    def run() -> list[int]:
        hubspot_sandbox.configure(seed=1234, fault_rates={"500": 0.5})
        return [client.request("GET", single("a@x.com")).status for _ in range(40)]

    # WHEN the same run is made again, straight after and after a reset
    first = run()
    again = run()
    hubspot_sandbox.reset()
    after_reset = run()

    # THEN the faults fall on the same calls each time, and both outcomes occur
    assert first == again == after_reset
    assert set(first) == {200, 500}


def test_a_script_comes_before_the_rates(hubspot_sandbox: HubSpotSandbox, client: Client) -> None:
    # GIVEN every call failing with 503, and a script that lets one through and then locks one
    hubspot_sandbox.configure(fault_rates={"503": 1.0})
    hubspot_sandbox.script_faults([None, "423"])

    # WHEN three calls are made
    statuses = [client.request("GET", single("a@x.com")).status for _ in range(3)]

    # THEN the script plays first, then the rate
    assert statuses == [200, 423, 503]


def test_faults_are_decided_only_for_calls_that_pass_authentication(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN one scripted fault
    hubspot_sandbox.script_faults(["500"])

    # WHEN an unauthenticated call comes first
    stranger = Client(hubspot_sandbox.base_url)
    refused = stranger.request("POST", single("a@x.com"))

    # THEN it is a plain 401, and the fault waits for the next real call
    assert refused.status == 401
    assert client.request("POST", single("a@x.com")).status == 500
    stranger.close()


# --- Admin endpoints -----------------------------------------------------------------------------


def test_the_call_log_lists_every_api_call_in_order(hubspot_sandbox: HubSpotSandbox, client: Client) -> None:
    # GIVEN a single call and a batch call
    client.request("POST", single("a/b@x.com", query="businessUnitId=5", verbose=False))
    client.request("POST", batch(), {"inputs": ["c@x.com"]})

    # WHEN the log is read over HTTP
    calls = client.admin("GET", "calls").body["calls"]

    # THEN it shows both, as received, and nothing else
    assert [call["seq"] for call in calls] == [1, 2]
    assert set(calls[0]) == {
        "seq", "method", "rawPath", "query", "operation", "status", "fault", "inputs", "subscriber",
        "businessUnitId", "at",
    }  # fmt: skip
    assert calls[0]["rawPath"] == "/communication-preferences/v4/statuses/a%2Fb%40x.com/unsubscribe-all"
    assert (calls[0]["query"], calls[0]["subscriber"], calls[0]["businessUnitId"]) == (
        "channel=EMAIL&businessUnitId=5",
        "a/b@x.com",
        5,
    )
    assert (calls[0]["inputs"], calls[1]["inputs"], calls[1]["subscriber"]) == (None, ["c@x.com"], None)
    assert [(call["method"], call["status"], call["fault"]) for call in calls] == [
        ("POST", 200, None),
        ("POST", 200, None),
    ]
    utc(calls[0]["at"])


def test_admin_calls_are_neither_rate_limited_nor_logged(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN a limit of one API call per window
    hubspot_sandbox.configure(rate_limit=1)

    # WHEN the admin API is called many times, then the API once
    admin_statuses = {client.admin("GET", "state").status for _ in range(5)}
    api_call = client.request("GET", single("a@x.com"))

    # THEN all were answered, the one API call was admitted, and only it is logged
    assert admin_statuses == {200}
    assert api_call.status == 200
    assert len(hubspot_sandbox.calls()) == 1


def test_the_state_endpoint_shows_opt_outs_counters_and_settings(client: Client) -> None:
    # GIVEN one subscriber opted out twice
    client.request("POST", single("A@x.com"))
    client.request("POST", single("a@x.com"))

    # WHEN the state is read
    state = client.admin("GET", "state").body

    # THEN it shows the opt-out, the counts, the limits used and the settings
    assert [(o["subscriberIdString"], o["businessUnitId"]) for o in state["optOuts"]] == [("A@x.com", 0)]
    assert state["successfulUnsubscribes"] == {"a@x.com": 2}
    assert state["rateLimit"] == {"windowUsed": 2, "dailyUsed": 2}
    assert (state["callCount"], state["tokenCount"], state["config"]["rate_limit"]) == (2, 1, 190)


def test_the_config_endpoint_changes_settings_at_run_time(client: Client) -> None:
    # GIVEN / WHEN the batch cap is lowered over HTTP
    changed = client.admin("POST", "config", {"batch_max_inputs": 1, "fault_rates": {"502": 0.0}})

    # THEN it takes effect at once
    assert changed.status == 200
    assert changed.body["config"]["batch_max_inputs"] == 1
    assert client.request("POST", batch(), {"inputs": ["a@x.com", "b@x.com"]}).status == 400

    # WHEN a setting is invalid
    refused = client.admin("POST", "config", {"rate_limit": 0})

    # THEN it is refused and nothing changed
    assert refused.status == 400
    assert client.admin("GET", "state").body["config"]["rate_limit"] == 190


def test_the_tokens_endpoint_adds_revokes_and_sets(
    hubspot_sandbox: HubSpotSandbox, client: Client, hubspot_token: str
) -> None:
    # GIVEN / WHEN a reader token is added and the test's own token revoked, over HTTP
    changed = client.admin("POST", "tokens", {"add": {"reader-token": [READ]}, "revoke": [hubspot_token]})
    reader = Client(hubspot_sandbox.base_url, "Bearer reader-token")

    # THEN the reader works and the revoked token does not
    assert changed.body == {"tokenCount": 1}
    assert reader.request("GET", single("a@x.com")).status == 200
    assert client.request("GET", single("a@x.com")).status == 401

    # WHEN the whole set is replaced
    client.admin("POST", "tokens", {"set": {hubspot_token: [READ_WRITE]}})

    # THEN only the new set counts
    assert reader.request("GET", single("a@x.com")).status == 401
    assert client.request("POST", single("a@x.com")).status == 200
    reader.close()


def test_the_script_endpoint_scripts_the_next_calls(client: Client) -> None:
    # GIVEN / WHEN two faults and a pass are scripted over HTTP
    scripted = client.admin("POST", "script", {"faults": ["503", None, "477"]})

    # THEN the next calls get them in order
    assert scripted.body == {"scriptedFaults": ["503", None, "477"]}
    statuses = [client.request("GET", single("a@x.com")).status for _ in range(4)]
    assert statuses == [503, 200, 477, 200]


def test_the_reset_endpoint_restores_the_start(hubspot_sandbox: HubSpotSandbox, client: Client) -> None:
    # GIVEN opt-outs, calls, a changed setting and a pending script
    client.request("POST", single("a@x.com"))
    hubspot_sandbox.configure(rate_limit=5)
    hubspot_sandbox.script_faults(["500"])

    # WHEN the sandbox is reset over HTTP
    state = client.admin("POST", "reset").body

    # THEN everything is as it started
    assert (state["optOuts"], state["callCount"], state["scriptedFaults"]) == ([], 0, [])
    assert state["config"]["rate_limit"] == 190
    assert client.request("GET", single("a@x.com")).body["results"] == []


def test_successful_unsubscribes_count_only_calls_that_succeeded(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN successful single and batch calls, and calls that failed in every way
    client.request("POST", single("a@x.com"))
    client.request("POST", batch(), {"inputs": ["a@x.com", "b@x.com", "B@x.com"]})
    hubspot_sandbox.script_faults(["500", "drop"])
    client.request("POST", single("c@x.com"))
    with pytest.raises(ConnectionError):
        client.request("POST", single("c@x.com"))
    client.request("POST", batch(), {"inputs": ["bad"]})
    Client(hubspot_sandbox.base_url).request("POST", single("c@x.com"))

    # WHEN / THEN each subscriber is counted once per successful call that named it
    assert hubspot_sandbox.successful_unsubscribes() == {"a@x.com": 2, "b@x.com": 1}


# --- Serving -------------------------------------------------------------------------------------


def test_concurrent_calls_are_each_applied_once(hubspot_sandbox: HubSpotSandbox, hubspot_token: str) -> None:
    # GIVEN eight clients, each unsubscribing the same ten subscribers three times, within the limits
    hubspot_sandbox.configure(rate_limit=1_000)
    subscribers = [f"person{index}@x.com" for index in range(10)]

    def unsubscribe_all_of_them() -> list[Any]:
        own = Client(hubspot_sandbox.base_url, f"Bearer {hubspot_token}")
        bodies = [own.request("POST", single(s)).body for _ in range(3) for s in subscribers]
        own.close()
        return bodies

    # WHEN they run at the same time
    with ThreadPoolExecutor(max_workers=8) as pool:
        bodies = [
            body for result in pool.map(lambda _: unsubscribe_all_of_them(), range(8)) for body in result
        ]

    # THEN every call counted, each subscriber changed exactly once, and the log has no gaps
    assert hubspot_sandbox.successful_unsubscribes() == dict.fromkeys(subscribers, 24)
    changed = [
        body["results"][0]["subscriberIdString"]
        for body in bodies
        if body["results"][0]["setStatusSuccessReason"] == "UNSUBSCRIBE_FROM_ALL_OCCURRED"
    ]
    assert sorted(changed) == sorted(subscribers)
    assert [call.seq for call in hubspot_sandbox.calls()] == list(range(1, 241))


def test_connections_are_kept_alive_with_a_content_length(client: Client) -> None:
    # GIVEN a first call on a fresh connection
    first = client.request("GET", single("a@x.com"))
    socket_after_first = client.connection.sock

    # WHEN more calls follow, including errors
    later = [client.request("POST", single("bad")), client.request("POST", single("a@x.com"))]

    # THEN they all went over the same connection, each with its length
    assert client.connection.sock is socket_after_first
    assert all(response.headers["Content-Length"] for response in [first, *later])
    assert [response.status for response in later] == [400, 200]


def test_stop_ends_idle_keep_alive_connections_and_can_be_repeated(
    hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN an idle keep-alive connection
    client.request("GET", single("a@x.com"))

    # WHEN the sandbox stops, twice
    started = time.monotonic()
    hubspot_sandbox.stop()
    hubspot_sandbox.stop()

    # THEN it stopped promptly and no longer has an address
    assert time.monotonic() - started < 2
    with pytest.raises(RuntimeError):
        _ = hubspot_sandbox.base_url


def test_sandboxes_started_together_get_their_own_ports() -> None:
    # GIVEN / WHEN two sandboxes on port 0
    with HubSpotSandbox() as first, HubSpotSandbox() as second:
        # THEN each has its own free port on loopback
        assert first.base_url != second.base_url
        assert first.base_url.startswith("http://127.0.0.1:")


# --- Command line --------------------------------------------------------------------------------


def start_cli(*arguments: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "local.hubspot_sandbox", "--port", "0", *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 10)
    line = process.stdout.readline() if ready else ""
    match = re.fullmatch(r"HubSpot sandbox listening on (http://127\.0\.0\.1:\d+)\n", line)
    if match is None:
        process.kill()
        pytest.fail(f"the sandbox did not start: {line!r}")
    return process, match.group(1)


@pytest.mark.parametrize(
    ("stop_signal", "verbose"),
    [(signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["SIGTERM", "SIGINT-verbose"],
)
def test_the_command_line_serves_until_signalled(stop_signal: signal.Signals, verbose: bool) -> None:
    # GIVEN the sandbox started from the command line on a free port
    token = "cli-token-5f1c"
    quirks = ["--quirk", "pending", "--quirk", "other-brand-statuses"]
    process, base_url = start_cli(
        "--token", token, "--rate-limit", "7", *quirks, *(["--verbose"] if verbose else [])
    )

    # WHEN it is called with the token and then signalled
    cli_client = Client(base_url, f"Bearer {token}")
    response = cli_client.request("POST", single("a@x.com"))
    read = cli_client.request("GET", single("a@x.com"))
    cli_client.close()
    process.send_signal(stop_signal)
    stdout, stderr = process.communicate(timeout=10)

    # THEN it served with the given settings, exited cleanly, and logged requests only when asked to
    assert (response.status, response.body["status"]) == (200, "PENDING")
    assert len(read.body["results"]) == 2  # the opt-out, and another brand's from the quirk
    assert response.headers["X-HubSpot-RateLimit-Max"] == "7"
    assert process.returncode == 0
    assert ("POST /communication-preferences/v4/statuses/a%40x.com" in stderr) is verbose
    assert token not in stdout + stderr


def test_the_command_line_refuses_to_start_without_a_token() -> None:
    # GIVEN / WHEN the sandbox is started with no token at all
    completed = subprocess.run(
        [sys.executable, "-m", "local.hubspot_sandbox", "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=10,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )

    # THEN it exits with a usage error that says what to give
    assert completed.returncode == 2
    assert "--token" in completed.stderr


# --- The official OpenAPI documents --------------------------------------------------------------


SINGLE = "/statuses/{subscriberIdString}/unsubscribe-all"
STATUSES = "/statuses/{subscriberIdString}"
BATCH = "/statuses/batch/unsubscribe-all"
BATCH_READ_PATH = "/statuses/batch/unsubscribe-all/read"
Setup = Callable[[HubSpotSandbox, Client], None]


@dataclass(frozen=True)
class SchemaCase:
    """One kind of answer: the documented operation, the call that gets it, and what comes first."""

    method: str
    template: str  # the documented path after the version
    query: str = "channel=EMAIL"
    body: Any = None
    setup: Setup = lambda sandbox, client: None
    status: int | Mapping[str, int] = 200  # a mapping when it depends on the version
    scopes: list[str] | None = None  # the scopes of the test's token, when not every one
    authenticated: bool = True

    def target(self, version: str) -> str:
        path = self.template.replace("{subscriberIdString}", "s%40x.com")
        return f"/communication-preferences/{version}{path}?{self.query}"

    def expected_status(self, version: str) -> int:
        return self.status if isinstance(self.status, int) else self.status[version]


def unsubscribe_first(sandbox: HubSpotSandbox, client: Client) -> None:
    client.request("POST", single("s@x.com"))


def unsubscribe_brand_7(sandbox: HubSpotSandbox, client: Client) -> None:
    client.request("POST", single("s@x.com", query="businessUnitId=7"))


def configure(**changes: Any) -> Setup:
    return lambda sandbox, client: sandbox.configure(**changes)


def quirk(name: str, then: Setup | None = None) -> Setup:
    def setup(sandbox: HubSpotSandbox, client: Client) -> None:
        sandbox.configure(quirks=[name])
        if then is not None:
            then(sandbox, client)

    return setup


def spend(**limits: int) -> Setup:
    def setup(sandbox: HubSpotSandbox, client: Client) -> None:
        sandbox.configure(**limits)
        client.request("GET", single("s@x.com"))

    return setup


def script(fault: FaultKind) -> Setup:
    return lambda sandbox, client: sandbox.script_faults([fault])


VERBOSE = "channel=EMAIL&verbose=true"
BRAND_7 = "channel=EMAIL&verbose=true&businessUnitId=7"
TWO = {"inputs": ["s@x.com", "t@x.com"]}
ONE_INVALID = {"inputs": ["s@x.com", "bad"]}
BATCH_READ_WITH_ERRORS = {"v4": 207, "2026-03": 207, "2026-09": 200}
# The answers with no quirk on: what HubSpot documents.
DEFAULT_SCHEMA_CASES = {
    "unsubscribe, terse": SchemaCase("POST", SINGLE),
    "unsubscribe verbose": SchemaCase("POST", SINGLE, VERBOSE),
    "unsubscribe again": SchemaCase("POST", SINGLE, VERBOSE, setup=unsubscribe_first),
    "unsubscribe a brand": SchemaCase("POST", SINGLE, BRAND_7),
    "read wide, terse": SchemaCase("GET", SINGLE, setup=unsubscribe_first),
    "read wide, none": SchemaCase("GET", SINGLE, VERBOSE),
    "read wide, opted out": SchemaCase("GET", SINGLE, VERBOSE, setup=unsubscribe_first),
    "read wide, a brand": SchemaCase("GET", SINGLE, BRAND_7, setup=unsubscribe_brand_7),
    "read statuses": SchemaCase("GET", STATUSES),
    "read statuses, opted out": SchemaCase("GET", STATUSES, setup=unsubscribe_first),
    "batch, terse": SchemaCase("POST", BATCH, body=TWO),
    "batch verbose": SchemaCase("POST", BATCH, VERBOSE, TWO),
    "batch with an invalid input": SchemaCase("POST", BATCH, VERBOSE, ONE_INVALID),
    "batch with an invalid input, terse": SchemaCase("POST", BATCH, body=ONE_INVALID),
    "batch read": SchemaCase("POST", BATCH_READ_PATH, body=TWO, setup=unsubscribe_first),
    "batch read with an invalid input": SchemaCase(
        "POST", BATCH_READ_PATH, body=ONE_INVALID, setup=unsubscribe_first, status=BATCH_READ_WITH_ERRORS
    ),
    "400 query": SchemaCase("POST", SINGLE, "channel=SMS&businessUnitId=x", status=400),
    "400 batch": SchemaCase("POST", BATCH, body={"inputs": "s@x.com"}, status=400),
    "400 too many inputs": SchemaCase(
        "POST", BATCH, body=TWO, setup=configure(batch_max_inputs=1), status=400
    ),
    "401": SchemaCase("POST", SINGLE, status=401, authenticated=False),
    "403": SchemaCase("POST", BATCH, body={"inputs": ["s@x.com"]}, status=403, scopes=[READ_WRITE]),
    "429 rolling": SchemaCase("POST", SINGLE, setup=spend(rate_limit=1), status=429),
    "429 daily": SchemaCase("POST", SINGLE, setup=spend(daily_limit=1), status=429),
    **{
        f"{fault} fault": SchemaCase("POST", SINGLE, setup=script(fault), status=int(fault.value))
        for fault in HTTP_FAULTS
    },
}
# The quirks that stay within the documented schemas (all but success-status); a 207 that an
# operation does not declare is held to its 200.
QUIRK_SCHEMA_CASES = {
    "retry-after 429": SchemaCase(
        "POST", SINGLE, setup=quirk("retry-after", spend(rate_limit=1)), status=429
    ),
    "partial-207": SchemaCase("POST", BATCH, VERBOSE, ONE_INVALID, setup=quirk("partial-207"), status=207),
    "reject-batch": SchemaCase("POST", BATCH, VERBOSE, ONE_INVALID, setup=quirk("reject-batch"), status=400),
    "reject-batch read": SchemaCase(
        "POST", BATCH_READ_PATH, body=ONE_INVALID, setup=quirk("reject-batch"), status=400
    ),
    "empty-results": SchemaCase("POST", SINGLE, VERBOSE, setup=quirk("empty-results")),
    "empty-results batch": SchemaCase("POST", BATCH, VERBOSE, ONE_INVALID, setup=quirk("empty-results")),
    "canceled": SchemaCase("POST", SINGLE, VERBOSE, setup=quirk("canceled")),
    "canceled batch": SchemaCase("POST", BATCH, VERBOSE, TWO, setup=quirk("canceled")),
    "pending": SchemaCase("POST", SINGLE, VERBOSE, setup=quirk("pending")),
    "pending batch": SchemaCase("POST", BATCH, VERBOSE, TWO, setup=quirk("pending")),
    "other-brand-statuses": SchemaCase("GET", SINGLE, VERBOSE, setup=quirk("other-brand-statuses")),
    "other-brand-statuses batch read": SchemaCase(
        "POST", BATCH_READ_PATH, body=TWO, setup=quirk("other-brand-statuses", unsubscribe_first)
    ),
    "already-unsubscribed-400": SchemaCase(
        "POST", SINGLE, setup=quirk("already-unsubscribed-400", unsubscribe_first), status=400
    ),
}
SCHEMA_CASES = {**DEFAULT_SCHEMA_CASES, **QUIRK_SCHEMA_CASES}


@pytest.fixture(scope="module")
def openapi_documents() -> dict[str, Any]:
    if not REFERENCE.is_dir():
        pytest.skip(f"HubSpot's OpenAPI documents are not here: {REFERENCE} does not exist")
    return {
        version: json.loads(
            (REFERENCE / f"hubspot-communication-preferences-{version}.openapi.json").read_text()
        )
        for version in VERSIONS
    }


def response_validator(
    document: dict[str, Any], version: str, method: str, template: str, status: int
) -> Draft202012Validator:
    """The documented schema for this answer; a 207 the operation does not declare is held to its 200."""
    responses = document["paths"][f"/communication-preferences/{version}{template}"][method.lower()][
        "responses"
    ]
    if str(status) in responses:
        response = responses[str(status)]
    else:
        response = responses["200"] if status == 207 else responses["default"]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    [content] = response["content"].values()
    # The document's own components sit beside the schema, so its `#/components/...` refs resolve.
    schema = {**content["schema"], "components": document["components"]}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case_name", list(SCHEMA_CASES))
def test_every_answer_matches_the_official_schema(
    openapi_documents: dict[str, Any],
    hubspot_sandbox: HubSpotSandbox,
    hubspot_token: str,
    case_name: str,
    version: str,
) -> None:
    # GIVEN a sandbox set up for this kind of answer
    case = SCHEMA_CASES[case_name]
    client = Client(hubspot_sandbox.base_url, f"Bearer {hubspot_token}" if case.authenticated else None)
    if case.scopes is not None:
        hubspot_sandbox.set_tokens({hubspot_token: case.scopes})
    case.setup(hubspot_sandbox, client)

    # WHEN the call is made
    response = client.request(case.method, case.target(version), case.body)
    client.close()

    # THEN it is the expected answer and matches HubSpot's published schema for it
    status = case.expected_status(version)
    assert response.status == status
    validator = response_validator(openapi_documents[version], version, case.method, case.template, status)
    assert [error.message for error in validator.iter_errors(response.body)] == []


def test_the_status_quirk_is_outside_the_documented_schema(
    openapi_documents: dict[str, Any], hubspot_sandbox: HubSpotSandbox, client: Client
) -> None:
    # GIVEN the quirk that answers status SUCCESS
    hubspot_sandbox.configure(quirks=["success-status"])

    # WHEN an unsubscribe is answered
    response = client.request("POST", single("s@x.com"))

    # THEN the documented schema rejects it, as clients must tolerate
    validator = response_validator(openapi_documents["v4"], "v4", "POST", SINGLE, 200)
    assert [error.json_path for error in validator.iter_errors(response.body)] == ["$.status"]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_batch_unsubscribe_declares_only_200_and_the_sandbox_answers_no_207_by_default(
    openapi_documents: dict[str, Any], client: Client, version: str
) -> None:
    # GIVEN the operation as documented in this version
    operation = openapi_documents[version]["paths"][f"/communication-preferences/{version}{BATCH}"]["post"]

    # WHEN a batch with an invalid input is sent to the sandbox with no quirk on
    response = client.request("POST", batch(version=version), ONE_INVALID)

    # THEN the document declares no 207, and the sandbox answers 200 with the error inside
    assert sorted(operation["responses"]) == ["200", "default"]
    assert (response.status, response.body["numErrors"]) == (200, 1)
