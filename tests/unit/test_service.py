"""The service: each identity carried out once, through the in-memory store and the HubSpot sandbox."""

from __future__ import annotations

import pytest

from optout.aws.idempotency_store import Claim
from optout.deadline import Deadline
from optout.domain.request import UnsubscribeRequest
from optout.domain.service import UnsubscribeService, WorkItem
from optout.domain.unsubscribe_rule import BatchMode, UnsubscribeRule
from optout.observability import MetricsRecorder
from optout.outcomes import Change, Reason, Rejected, RetryKind, RetryLater, Unsubscribed
from tests.unit.conftest import Domain


def item(address: str, identity: str | None = "key:k-1") -> WorkItem:
    return WorkItem(UnsubscribeRequest(address), identity, correlation_id=f"c-{address}")


def operations(domain: Domain, since: int = 0) -> list[str | None]:
    return [call.request.operation for call in domain.hubspot.calls()[since:]]


def deadline() -> Deadline:
    return Deadline.after(10)


def test_a_request_is_carried_out_and_recorded_without_its_address(domain):
    # Given a fresh identity
    service = domain.service()

    # When it is carried out
    outcome = service.unsubscribe(item("jane@example.com"), deadline())

    # Then HubSpot unsubscribed it, and the store keeps a record that names no full address
    assert isinstance(outcome, Unsubscribed)
    assert outcome.change is Change.UNSUBSCRIBED
    assert not outcome.replayed
    assert outcome.answer is not None
    record = domain.store.record_of("key:k-1")
    assert record is not None
    assert record["subscriber"] == "j***@example.com"
    assert "jane@example.com" not in repr(record)
    assert domain.counts() == {"Unsubscribed": 1}


def test_the_same_identity_again_is_replayed_without_a_call(domain):
    service = domain.service()
    service.unsubscribe(item("jane@example.com"), deadline())

    outcome = service.unsubscribe(item("jane@example.com"), deadline())

    assert isinstance(outcome, Unsubscribed)
    assert outcome.replayed
    assert outcome.subscriber == "jane@example.com"
    assert outcome.change is Change.UNSUBSCRIBED
    assert operations(domain) == ["unsubscribe-all"]
    assert domain.counts() == {"Unsubscribed": 1, "IdempotentReplays": 1}


def test_a_key_reused_for_another_request_is_rejected_without_a_call(domain):
    service = domain.service()
    service.unsubscribe(item("jane@example.com"), deadline())

    outcome = service.unsubscribe(item("john@example.com"), deadline())

    assert isinstance(outcome, Rejected)
    assert outcome.reason is Reason.IDEMPOTENCY_KEY_REUSED
    assert operations(domain) == ["unsubscribe-all"]


def test_an_identity_held_by_another_attempt_is_retried_later(domain):
    # Given another attempt holds the key right now
    domain.store.hold(Claim("key:k-1", UnsubscribeRequest("jane@example.com").fingerprint()))

    # When the same request comes
    outcome = domain.service().unsubscribe(item("jane@example.com"), deadline())

    # Then it waits for a retry (the trigger knows how long), and HubSpot was never called for it
    assert outcome == RetryLater(RetryKind.IN_PROGRESS, "the same request is being processed now")
    assert operations(domain) == []
    assert domain.counts() == {"TransientFailures": 1}


def test_an_unavailable_store_makes_the_request_wait_and_calls_no_one(domain):
    domain.store.unavailable = True

    outcome = domain.service().unsubscribe(item("jane@example.com"), deadline())

    assert isinstance(outcome, RetryLater)
    assert outcome.kind is RetryKind.IDEMPOTENCY_STORE
    assert operations(domain) == []


def test_a_success_the_store_could_not_keep_is_still_a_success(domain):
    domain.store.lose_success_writes = True

    outcome = domain.service().unsubscribe(item("jane@example.com"), deadline())

    assert isinstance(outcome, Unsubscribed)
    assert domain.hubspot.successful_unsubscribes() == {"jane@example.com": 1}


def test_a_refusal_gives_the_claim_up_so_the_key_can_be_tried_again(domain):
    # Given HubSpot refuses the address
    domain.hubspot.configure(invalid_subscribers="^refused@")
    service = domain.service()

    # When it is tried twice under one key
    first = service.unsubscribe(item("refused@example.com"), deadline())
    second = service.unsubscribe(item("refused@example.com"), deadline())

    # Then both reached HubSpot (nothing was recorded) and both were rejected for HubSpot's reason
    assert isinstance(first, Rejected)
    assert first.reason is Reason.HUBSPOT_REJECTED
    assert second == first
    assert operations(domain) == ["unsubscribe-all", "unsubscribe-all"]
    assert domain.store.record_of("key:k-1") is None


@pytest.mark.parametrize(
    ("held_before", "expected"),
    [(True, ["read-unsubscribe-all"]), (False, ["read-unsubscribe-all", "unsubscribe-all"])],
)
def test_a_key_taken_over_from_a_lost_attempt_reads_hubspot_first(domain, held_before, expected):
    # Given a lost attempt left the key in progress, and HubSpot holds the opt-out or not
    if held_before:
        domain.service().unsubscribe(item("jane@example.com", identity="key:earlier"), deadline())
    calls_before = len(domain.hubspot.calls())
    domain.store.leave_lost_attempt(Claim("key:k-1", UnsubscribeRequest("jane@example.com").fingerprint()))

    # When the request comes again
    outcome = domain.service().unsubscribe(item("jane@example.com"), deadline())

    # Then HubSpot's status is read first, and written only if it did not hold the opt-out
    assert isinstance(outcome, Unsubscribed)
    assert operations(domain, since=calls_before) == expected
    assert domain.hubspot.successful_unsubscribes() == {"jane@example.com": 1}


def test_a_batch_shares_calls_and_each_item_gets_its_own_outcome(domain):
    # Given five items: two share a key, one reuses a key for another address, one is refused
    domain.hubspot.configure(invalid_subscribers="^refused@")
    items = [
        item("a@example.com", "key:a"),
        item("a@example.com", "key:a"),
        item("b@example.com", "key:b"),
        item("c@example.com", "key:b"),
        item("refused@example.com", "key:r"),
    ]

    # When they are carried out together
    outcomes = domain.service(BatchMode.ON).unsubscribe_many(items, deadline())

    # Then one batch call carried the distinct requests, and each item has its own outcome
    assert [type(outcome).__name__ for outcome in outcomes] == [
        "Unsubscribed",
        "Unsubscribed",
        "Unsubscribed",
        "Rejected",
        "Rejected",
    ]
    first, duplicate = outcomes[0], outcomes[1]
    assert isinstance(first, Unsubscribed) and not first.replayed
    assert isinstance(duplicate, Unsubscribed) and duplicate.replayed
    assert outcomes[3] == Rejected(
        Reason.IDEMPOTENCY_KEY_REUSED, "idempotency key reused for another request"
    )
    refused = outcomes[4]
    assert isinstance(refused, Rejected) and refused.reason is Reason.HUBSPOT_REJECTED
    assert operations(domain)[0] == "batch-unsubscribe-all"
    assert domain.hubspot.successful_unsubscribes() == {"a@example.com": 1, "b@example.com": 1}
    assert domain.counts() == {"Unsubscribed": 2, "IdempotentReplays": 1, "PermanentFailures": 2}


def test_unguarded_items_claim_nothing_and_share_calls_by_request(domain):
    # Given HubSpot's own batch call through the facade: no identities, one address twice
    items = [item("a@example.com", None), item("b@example.com", None), item("a@example.com", None)]

    # When they are carried out
    outcomes = domain.service().unsubscribe_many(items, deadline())

    # Then the store was never asked, each distinct address went out once, and all succeeded
    assert all(isinstance(outcome, Unsubscribed) for outcome in outcomes)
    assert domain.store.claims == 0
    assert domain.hubspot.successful_unsubscribes() == {"a@example.com": 1, "b@example.com": 1}


def test_a_write_that_may_have_reached_hubspot_makes_the_next_attempt_read_first(domain):
    # Given a write answered with a 502 (HubSpot may have carried it out), and a status read that fails
    domain.hubspot.script_faults(["502", "503", "503", "503", "503"])
    service = domain.service()
    first = service.unsubscribe(item("jane@example.com"), deadline())
    calls_before = len(domain.hubspot.calls())

    # When the request comes again
    second = service.unsubscribe(item("jane@example.com"), deadline())

    # Then the first waited for a retry saying so, and the second read HubSpot's status before it
    # wrote (the sandbox's 502 applied nothing, so it did write, once)
    assert isinstance(first, RetryLater) and first.may_have_applied
    assert isinstance(second, Unsubscribed)
    assert operations(domain, since=calls_before) == ["read-unsubscribe-all", "unsubscribe-all"]
    assert domain.hubspot.successful_unsubscribes() == {"jane@example.com": 1}


def test_a_takeover_whose_status_read_fails_waits_instead_of_writing_blind(domain):
    # Given a lost attempt left the key in progress, and HubSpot's status reads fail for now
    domain.store.leave_lost_attempt(Claim("key:k-1", UnsubscribeRequest("jane@example.com").fingerprint()))
    domain.hubspot.script_faults(["503", "503", "503", "503"])

    # When the request comes again
    outcome = domain.service().unsubscribe(item("jane@example.com"), deadline())

    # Then nothing was written (the lost attempt may have done it): it waits, keeping the claim for
    # the next attempt, which reads again
    assert isinstance(outcome, RetryLater) and outcome.may_have_applied
    assert "unsubscribe-all" not in operations(domain)
    again = domain.service().unsubscribe(item("jane@example.com"), deadline())
    assert isinstance(again, Unsubscribed)
    assert operations(domain)[-2:] == ["read-unsubscribe-all", "unsubscribe-all"]


def test_a_takeover_that_may_not_read_statuses_writes_rather_than_lose_the_opt_out(domain):
    # Given a lost attempt, and a token that may write but not read (HubSpot answers 403)
    domain.hubspot.add_token("write-only", {"communication_preferences.write"})
    domain.store.leave_lost_attempt(Claim("key:k-1", UnsubscribeRequest("jane@example.com").fingerprint()))
    service = UnsubscribeService(
        UnsubscribeRule(domain.client_for("write-only"), batch_mode=BatchMode.AUTO, max_concurrency=2),
        domain.store,
        MetricsRecorder(domain.metrics),
    )

    # When the request comes again, then it is written: a second write is harmless, a lost one is not
    outcome = service.unsubscribe(item("jane@example.com"), deadline())
    assert isinstance(outcome, Unsubscribed)
    assert domain.hubspot.successful_unsubscribes() == {"jane@example.com": 1}
