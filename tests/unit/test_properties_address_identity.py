"""Address identity, for any two valid addresses: two subscribers unless HubSpot's `lower()` makes them one.

The domain (the service, the unsubscribe rule, the real HubSpot client) runs on an in-memory
idempotency store and the HubSpot sandbox over a socket; the sandbox's call log shows what
HubSpot received. Addresses are drawn from characters that a case fold or a Unicode normalisation
would merge (ß/ss/ẞ, é composed and decomposed, the fi ligature, final sigma, the Kelvin sign).
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from local.hubspot_sandbox import HubSpotSandbox
from optout.deadline import Deadline
from optout.domain.addresses import InvalidEmailError, validate_email
from optout.domain.request import UnsubscribeRequest
from optout.domain.service import UnsubscribeService, WorkItem
from optout.domain.unsubscribe_rule import BatchMode, UnsubscribeRule
from optout.hubspot.client import HubSpotClient
from optout.observability import MetricsRecorder
from optout.outcomes import Unsubscribed
from tests.in_memory_store import InMemoryIdempotencyStore

EXAMPLES = settings(max_examples=120, deadline=None)
METRICS = MetricsRecorder(Metrics(namespace="PropertyTests", service="property"))
# Pieces a fold or a normalisation merges with one another; lower() merges only some of them.
PIECES = [
    "ß",
    "ss",
    "SS",
    "ẞ",
    "é",
    "e\u0301",
    "É",
    "ﬁ",
    "fi",
    "ς",
    "\u03c3",
    "Σ",
    "K",
    "\u212a",
    "k",
    "a",
    "A",
    ".",
]
LOCAL_PARTS = st.lists(st.sampled_from(PIECES), min_size=1, max_size=5).map("".join)
DOMAINS = st.sampled_from(["example.de", "Example.DE", "bücher.example"])
ADDRESSES = st.builds(lambda local, domain: f"x{local}@{domain}", LOCAL_PARTS, DOMAINS)


def valid(address: str) -> bool:
    try:
        validate_email(address)
    except InvalidEmailError:
        return False
    return True


def received(sandbox: HubSpotSandbox, since: int) -> list[str]:
    """Every subscriber string HubSpot received in calls since `since`, as sent."""
    strings: list[str] = []
    for call in sandbox.calls()[since:]:
        strings += list(call.request.inputs or ()) or [call.request.subscriber or ""]
    return strings


@EXAMPLES
@given(first=ADDRESSES, second=ADDRESSES, batch_mode=st.sampled_from([BatchMode.ON, BatchMode.OFF]))
def test_two_addresses_lower_tells_apart_both_reach_hubspot_as_their_exact_strings(
    busy_sandbox: HubSpotSandbox, busy_client: HubSpotClient, first: str, second: str, batch_mode: BatchMode
) -> None:
    # Given two valid addresses HubSpot holds as two subscribers, in one batch
    assume(valid(first) and valid(second) and first.lower() != second.lower())
    service = UnsubscribeService(
        UnsubscribeRule(busy_client, batch_mode=batch_mode, max_concurrency=2),
        InMemoryIdempotencyStore(),
        METRICS,
    )
    items = [
        WorkItem(UnsubscribeRequest(address), f"key:{n}", correlation_id=str(n))
        for n, address in enumerate((first, second))
    ]
    calls_before = len(busy_sandbox.calls())

    # When they are carried out together
    outcomes = service.unsubscribe_many(items, Deadline.after(10))

    # Then each was sent once as its exact string, and each is unsubscribed
    assert sorted(received(busy_sandbox, calls_before)) == sorted([first, second])
    assert [outcome.subscriber for outcome in outcomes if isinstance(outcome, Unsubscribed)] == [
        first,
        second,
    ]


@EXAMPLES
@given(address=ADDRESSES)
def test_two_spellings_lower_makes_equal_are_one_subscriber_sent_once(
    busy_sandbox: HubSpotSandbox, busy_client: HubSpotClient, address: str
) -> None:
    # Given an address and its upper-case spelling, which HubSpot holds as one subscriber
    other = address.upper()
    assume(valid(address) and valid(other) and address != other and address.lower() == other.lower())
    service = UnsubscribeService(
        UnsubscribeRule(busy_client, batch_mode=BatchMode.ON, max_concurrency=2),
        InMemoryIdempotencyStore(),
        METRICS,
    )
    items = [
        WorkItem(UnsubscribeRequest(spelling), None, correlation_id="c") for spelling in (address, other)
    ]
    calls_before = len(busy_sandbox.calls())

    # When both are carried out together, then HubSpot heard of the subscriber once
    outcomes = service.unsubscribe_many(items, Deadline.after(10))
    assert received(busy_sandbox, calls_before) == [address]
    assert all(isinstance(outcome, Unsubscribed) for outcome in outcomes)
