"""The sandbox's state: opt-outs, counters, seeded latency and reset, without a server."""

from datetime import UTC, datetime, timedelta

from local.hubspot_sandbox import ALL_SCOPES, FaultKind, SandboxConfig
from local.hubspot_sandbox.config import with_changes
from local.hubspot_sandbox.opt_outs import OptOutStore
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

    # WHEN reset
    state.reset()

    # THEN everything is as it started
    assert state.config == config
    assert state.tokens.scopes_of("start-token") == ALL_SCOPES
    assert state.faults.pending_script == []
    assert state.opt_outs.all() == []
    assert len(state.calls) == 0
