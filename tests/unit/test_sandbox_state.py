"""The sandbox's state: opt-outs, counters, seeded latency and reset, without a server."""

from datetime import UTC, datetime, timedelta

from local.hubspot_sandbox import ALL_SCOPES, FaultKind, SandboxConfig
from local.hubspot_sandbox.config import with_changes
from local.hubspot_sandbox.opt_outs import OptOutStore, WriteAttempts
from local.hubspot_sandbox.state import SandboxState

MOMENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_the_first_unsubscribe_changes_and_later_ones_keep_the_first_time() -> None:
    # GIVEN an empty store
    store = OptOutStore()

    # WHEN the same subscriber is unsubscribed twice, in different case
    first, first_changed = store.unsubscribe_all("Crm@X.com", 0, MOMENT)
    again, again_changed = store.unsubscribe_all("crm@x.com", 0, MOMENT + timedelta(minutes=1))

    # THEN only the first call changed anything, and the opt-out keeps its first spelling and time
    assert (first_changed, again_changed) == (True, False)
    assert again == first
    assert (again.subscriber, again.at) == ("Crm@X.com", MOMENT)


def test_subscribers_are_the_same_only_when_their_lower_case_is() -> None:
    # GIVEN two addresses that casefold alike but lower-case differently, and a case variant
    store = OptOutStore()

    # WHEN each is unsubscribed
    changed = [
        store.unsubscribe_all(s, 0, MOMENT)[1] for s in ("straße@x.de", "strasse@x.de", "STRASSE@x.de")
    ]

    # THEN the first two are two subscribers, and the third is the second again
    assert changed == [True, True, False]
    assert [opt_out.subscriber for opt_out in store.all()] == ["straße@x.de", "strasse@x.de"]
    assert store.find("STRASSE@X.DE", 0) is not None
    assert store.successful_unsubscribes() == {"straße@x.de": 1, "strasse@x.de": 2}


def test_a_write_attempt_is_first_once_per_subscriber_and_business_unit() -> None:
    # GIVEN no writes yet
    attempts = WriteAttempts()

    # WHEN writes are noted for spellings of one subscriber, another brand and another subscriber
    firsts = [
        attempts.first("a@x.com", 0),
        attempts.first("A@X.com", 0),
        attempts.first("a@x.com", 7),
        attempts.first("straße@x.de", 0),
        attempts.first("strasse@x.de", 0),
    ]

    # THEN only a new subscriber and business unit is a first
    assert firsts == [True, False, True, True, True]


def test_opt_outs_are_per_business_unit() -> None:
    # GIVEN a subscriber opted out of business unit 7 only
    store = OptOutStore()
    store.unsubscribe_all("crm@x.com", 7, MOMENT)

    # WHEN / THEN it is found there and not in the default brand
    assert store.find("CRM@x.com", 7) is not None
    assert store.find("crm@x.com", 0) is None


def test_successful_unsubscribes_count_every_call_per_lower_cased_subscriber() -> None:
    # GIVEN three successful calls for one subscriber across brands, one for another
    store = OptOutStore()
    for subscriber, business_unit_id in [("A@x.com", 0), ("a@x.com", 0), ("a@X.com", 3), ("b@x.com", 0)]:
        store.unsubscribe_all(subscriber, business_unit_id, MOMENT)

    # WHEN / THEN the counts say so
    assert store.successful_unsubscribes() == {"a@x.com": 3, "b@x.com": 1}


def test_the_same_seed_gives_the_same_latencies_within_the_jitter() -> None:
    # GIVEN two states with 100 ms latency, 50 ms jitter and the same seed
    config = SandboxConfig(latency_ms=100, jitter_ms=50, seed=11)
    first, second = SandboxState(config), SandboxState(config)

    # WHEN each draws latencies
    first_latencies = [first.next_latency_s() for _ in range(20)]
    second_latencies = [second.next_latency_s() for _ in range(20)]

    # THEN they agree and stay within [latency, latency + jitter]
    assert first_latencies == second_latencies
    assert all(0.1 <= latency <= 0.15 for latency in first_latencies)
    assert len(set(first_latencies)) > 1


def test_without_a_seed_one_is_chosen_and_kept() -> None:
    # GIVEN / WHEN a state without a seed
    state = SandboxState(SandboxConfig())

    # THEN it picked one, so a run can be replayed
    assert isinstance(state.seed, int)


def test_a_new_seed_at_run_time_replays_its_faults() -> None:
    # GIVEN a state whose faults already ran under another seed
    config = SandboxConfig(fault_rates={FaultKind.INTERNAL_ERROR: 0.5}, seed=1)
    state = SandboxState(config)
    reference = SandboxState(with_changes(config, {"seed": 99}))
    expected = [reference.faults.next_fault() for _ in range(30)]
    state.faults.next_fault()

    # WHEN the seed changes at run time
    state.apply_config(with_changes(config, {"seed": 99}), reseed=True)

    # THEN the faults follow the new seed from its start
    assert [state.faults.next_fault() for _ in range(30)] == expected


def test_reset_restores_the_start() -> None:
    # GIVEN a state whose settings, tokens, script and opt-outs all changed
    config = SandboxConfig(tokens={"start-token": ALL_SCOPES}, seed=5)
    state = SandboxState(config)
    state.apply_config(with_changes(config, {"latency_ms": 50}))
    state.tokens.revoke("start-token")
    state.faults.script([FaultKind.DROP])
    state.opt_outs.unsubscribe_all("a@x.com", 0, MOMENT)
    state.account.write_attempts.first("a@x.com", 0)

    # WHEN reset
    state.reset()

    # THEN everything is as it started
    assert state.config == config
    assert state.tokens.scopes_of("start-token") == ALL_SCOPES
    assert state.faults.pending_script == []
    assert state.opt_outs.all() == []
    assert state.account.opt_outs is state.opt_outs
    assert state.account.write_attempts.first("a@x.com", 0)
    assert len(state.calls) == 0
