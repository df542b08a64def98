"""The unsubscribe rule: which HubSpot calls carry a set of requests, on the HubSpot sandbox."""

from __future__ import annotations

from optout.deadline import Deadline
from optout.domain.request import UnsubscribeRequest
from optout.domain.unsubscribe_rule import BatchMode, UnsubscribeRule
from optout.hubspot.errors import MissingScopesError
from optout.hubspot.responses import UnsubscribeAllStatus
from optout.outcomes import Change, Reason, Rejected, RetryKind, RetryLater, Unsubscribed
from tests.unit.conftest import Domain

WRITE_ONLY = {"communication_preferences.write", "communication_preferences.read"}


def deadline() -> Deadline:
    return Deadline.after(10)


def batches(domain: Domain) -> dict[int | None, tuple[str, ...]]:
    """Each batch call's inputs by business unit (the sandbox records none as the default, 0)."""
    return {
        call.request.business_unit_id: tuple(call.request.inputs or ())
        for call in domain.hubspot.calls()
        if call.request.operation == "batch-unsubscribe-all"
    }


def test_requests_are_grouped_by_business_unit_and_verbose(domain):
    # Given requests for two business units, one of them asked twice
    requests = [
        UnsubscribeRequest("a@example.com"),
        UnsubscribeRequest("b@example.com", business_unit_id=7),
        UnsubscribeRequest("c@example.com", business_unit_id=7),
        UnsubscribeRequest("c@example.com", business_unit_id=7),
    ]

    # When they are sent with batching on
    outcomes = domain.rule(BatchMode.ON).send(requests, deadline())

    # Then one batch call per business unit carried each distinct request once
    assert batches(domain) == {0: ("a@example.com",), 7: ("b@example.com", "c@example.com")}
    assert len(domain.hubspot.calls()) == 2
    assert set(outcomes) == {request.target for request in requests}
    assert all(isinstance(outcome, Unsubscribed) for outcome in outcomes.values())


def test_in_auto_mode_a_lone_request_goes_as_a_single_call(domain):
    outcomes = domain.rule(BatchMode.AUTO).send([UnsubscribeRequest("a@example.com")], deadline())

    assert [call.request.operation for call in domain.hubspot.calls()] == ["unsubscribe-all"]
    [outcome] = outcomes.values()
    assert isinstance(outcome, Unsubscribed)
    assert outcome.answer is not None


def test_without_the_batch_scope_the_rule_falls_back_to_single_calls_for_good(domain):
    # Given a token that may write singly but not in batch
    domain.hubspot.add_token("single-only", WRITE_ONLY)
    disabled: list[MissingScopesError] = []
    rule = UnsubscribeRule(
        domain.client_for("single-only"),
        batch_mode=BatchMode.ON,
        max_concurrency=4,
        on_batch_disabled=disabled.append,
    )
    requests = [UnsubscribeRequest("a@example.com"), UnsubscribeRequest("b@example.com")]

    # When two requests are sent, then two more
    first = rule.send(requests, deadline())
    later = rule.would_batch(2)

    # Then the 403 turned into single calls that succeeded, the switch happened once, and stays
    assert all(isinstance(outcome, Unsubscribed) for outcome in first.values())
    assert [call.status for call in domain.hubspot.calls()] == [403, 200, 200]
    assert len(disabled) == 1
    assert rule.batch_disabled and not later


def test_a_single_call_that_keeps_failing_is_an_outcome_to_retry(domain):
    domain.hubspot.script_faults(["503", "503", "503", "503"])

    outcome = domain.rule().send_one(UnsubscribeRequest("a@example.com"), deadline())

    assert isinstance(outcome, RetryLater)
    assert outcome.kind is RetryKind.TRANSIENT


def test_an_address_hubspot_refuses_is_rejected_for_hubspots_reason(domain):
    domain.hubspot.configure(invalid_subscribers="^refused@")

    outcome = domain.rule().send_one(UnsubscribeRequest("refused@example.com"), deadline())

    assert isinstance(outcome, Rejected)
    assert outcome.reason is Reason.HUBSPOT_REJECTED
    assert "refused@example.com" not in outcome.message


def test_done_before_reads_hubspot_and_never_writes(domain):
    # Given one address HubSpot holds an opt-out for and one it does not
    rule = domain.rule()
    rule.send_one(UnsubscribeRequest("held@example.com"), deadline())
    writes_before = domain.hubspot.successful_unsubscribes()

    # When each is checked
    held = rule.done_before(UnsubscribeRequest("held@example.com"), deadline())
    not_held = rule.done_before(UnsubscribeRequest("free@example.com"), deadline())

    # Then only the first is done, as already unsubscribed, and nothing was written
    assert isinstance(held, Unsubscribed)
    assert held.change is Change.ALREADY_UNSUBSCRIBED
    assert not_held is None
    assert domain.hubspot.successful_unsubscribes() == writes_before


def test_a_status_that_cannot_be_read_now_is_neither_done_nor_free_to_write(domain):
    domain.hubspot.script_faults(["503", "503", "503", "503"])

    held = domain.rule().done_before(UnsubscribeRequest("a@example.com"), deadline())

    assert isinstance(held, RetryLater) and held.may_have_applied


def test_read_status_answers_hubspots_status(domain):
    domain.rule().send_one(UnsubscribeRequest("a@example.com"), deadline())

    status = domain.rule().read_status("a@example.com", None, deadline())

    assert isinstance(status, UnsubscribeAllStatus)
    assert status.unsubscribed_for(None)
