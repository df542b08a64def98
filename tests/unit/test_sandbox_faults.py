"""The sandbox's fault injector: scripts first, then seeded draws against the rates."""

import pytest

from local.hubspot_sandbox.faults import FaultInjector, FaultKind, parse_scripted_fault, validate_fault_rates


def test_no_rates_and_no_script_means_no_faults() -> None:
    # GIVEN / WHEN an injector with nothing configured
    injector = FaultInjector({}, seed=1)

    # THEN calls are never faulted
    assert {injector.next_fault() for _ in range(100)} == {None}


def test_a_rate_of_one_faults_every_call() -> None:
    # GIVEN / WHEN a 503 rate of 1
    injector = FaultInjector({FaultKind.SERVICE_UNAVAILABLE: 1.0}, seed=1)

    # THEN every call gets it
    assert {injector.next_fault() for _ in range(100)} == {FaultKind.SERVICE_UNAVAILABLE}


def test_the_same_seed_replays_the_same_faults() -> None:
    # GIVEN two injectors with the same rates and seed (rates given in different orders)
    rates = {FaultKind.INTERNAL_ERROR: 0.2, FaultKind.DROP: 0.2}
    first = FaultInjector(rates, seed=7)
    second = FaultInjector(dict(reversed(rates.items())), seed=7)

    # WHEN each decides 200 calls
    first_faults = [first.next_fault() for _ in range(200)]
    second_faults = [second.next_fault() for _ in range(200)]

    # THEN they agree, and both kinds occur at roughly their rates
    assert first_faults == second_faults
    assert 20 < first_faults.count(FaultKind.INTERNAL_ERROR) < 60
    assert 20 < first_faults.count(FaultKind.DROP) < 60


def test_reseeding_replays_from_the_start() -> None:
    # GIVEN an injector that has already decided some calls
    injector = FaultInjector({FaultKind.BAD_GATEWAY: 0.5}, seed=3)
    expected = [injector.next_fault() for _ in range(50)]

    # WHEN it is reseeded with the same seed
    injector.reseed(3)

    # THEN it decides the same again
    assert [injector.next_fault() for _ in range(50)] == expected


def test_a_script_comes_first_in_order_then_the_rates_resume() -> None:
    # GIVEN every call would fail with 500
    injector = FaultInjector({FaultKind.INTERNAL_ERROR: 1.0}, seed=1)

    # WHEN a script lets one call through and then times one out
    injector.script([None, FaultKind.TIMEOUT])

    # THEN the script plays out first, then the rate applies again
    assert [injector.next_fault() for _ in range(3)] == [None, FaultKind.TIMEOUT, FaultKind.INTERNAL_ERROR]
    assert injector.pending_script == []


def test_a_new_script_replaces_the_pending_one() -> None:
    # GIVEN a pending script
    injector = FaultInjector({}, seed=1)
    injector.script([FaultKind.LOCKED, FaultKind.LOCKED])

    # WHEN another script is given
    injector.script([FaultKind.DROP])

    # THEN only the new one is pending
    assert injector.pending_script == [FaultKind.DROP]


@pytest.mark.parametrize(("name", "kind"), [("500", FaultKind.INTERNAL_ERROR), ("slow", FaultKind.SLOW)])
def test_script_entries_are_fault_names(name: str, kind: FaultKind) -> None:
    # GIVEN / WHEN / THEN a fault name parses to its kind
    assert parse_scripted_fault(name) is kind


@pytest.mark.parametrize("name", [None, "ok", "OK", "none"])
def test_script_entries_can_let_a_call_through(name: str | None) -> None:
    # GIVEN / WHEN / THEN None, "ok" and "none" mean no fault
    assert parse_scripted_fault(name) is None


def test_an_unknown_fault_name_is_refused() -> None:
    # GIVEN / WHEN / THEN a fault the sandbox cannot inject is an error
    with pytest.raises(ValueError, match="418"):
        parse_scripted_fault("418")


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (FaultKind.MIGRATING, 477),
        (FaultKind.GATEWAY_TIMEOUT, 504),
        (FaultKind.TIMEOUT, None),
        (FaultKind.SLOW, None),
    ],
)
def test_http_faults_know_their_status_and_connection_faults_have_none(
    kind: FaultKind, status: int | None
) -> None:
    # GIVEN / WHEN / THEN
    assert kind.http_status == status


@pytest.mark.parametrize(
    "rates",
    [{FaultKind.DROP: -0.1}, {FaultKind.DROP: 1.5}, {FaultKind.DROP: 0.6, FaultKind.SLOW: 0.6}],
)
def test_rates_must_be_probabilities_that_sum_to_at_most_one(rates: dict[FaultKind, float]) -> None:
    # GIVEN / WHEN / THEN rates that cannot be probabilities of exclusive outcomes are refused
    with pytest.raises(ValueError, match="fault rate"):
        validate_fault_rates(rates)
