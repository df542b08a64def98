"""The sandbox's settings: validation, run-time changes from JSON, and never showing a token."""

import pytest

from local.hubspot_sandbox import ALL_SCOPES, FaultKind, Quirk, SandboxConfig
from local.hubspot_sandbox.config import config_as_json, with_changes


def test_the_defaults_are_a_professional_account() -> None:
    # GIVEN / WHEN the defaults
    config = SandboxConfig()

    # THEN they are HubSpot's Professional limits, on a free loopback port, quirks off
    assert (config.host, config.port) == ("127.0.0.1", 0)
    assert (config.rate_limit, config.rate_window_ms, config.daily_limit) == (190, 10_000, 625_000)
    assert config.batch_max_inputs == 100
    assert config.quirks == frozenset()


def test_changes_from_json_are_coerced_to_their_types() -> None:
    # GIVEN the JSON an admin call would send
    changes = {
        "fault_rates": {"500": 0.25, "timeout": "0.5"},
        "quirks": ["partial-207", "canceled", "partial-207"],
        "latency_ms": 5,
    }

    # WHEN applied
    config = with_changes(SandboxConfig(), changes)

    # THEN the fault and quirk names became their enums, the quirks a set
    assert config.fault_rates == {FaultKind.INTERNAL_ERROR: 0.25, FaultKind.TIMEOUT: 0.5}
    assert config.quirks == frozenset({Quirk.PARTIAL_207, Quirk.CANCELED})
    assert config.has(Quirk.CANCELED)
    assert not config.has(Quirk.PENDING)
    assert config.latency_ms == 5


def test_quirks_given_at_start_as_a_list_become_a_set_and_a_change_replaces_it() -> None:
    # GIVEN a config started with two quirks, one by name and one as a Quirk
    config = SandboxConfig(quirks=["retry-after", Quirk.PENDING])

    # WHEN the quirks are changed
    changed = with_changes(config, {"quirks": ["canceled"]})

    # THEN the start set is both, and the change replaced it rather than adding to it
    assert config.quirks == frozenset({Quirk.RETRY_AFTER, Quirk.PENDING})
    assert changed.quirks == frozenset({Quirk.CANCELED})
    assert with_changes(changed, {"quirks": []}).quirks == frozenset()


@pytest.mark.parametrize("name", ["host", "port", "tokens", "log_requests", "no_such_setting"])
def test_start_only_and_unknown_settings_cannot_change_at_run_time(name: str) -> None:
    # GIVEN / WHEN / THEN changing what is fixed at start is refused, naming it
    with pytest.raises(ValueError, match=name):
        with_changes(SandboxConfig(), {name: 1})


@pytest.mark.parametrize(
    "changes",
    [
        {"rate_limit": 0},
        {"rate_window_ms": 1.5},
        {"daily_limit": True},
        {"batch_max_inputs": "100"},
        {"latency_ms": -1},
        {"timeout_hang_s": "long"},
        {"fault_retry_after_s": -1},
        {"quirks": "retry-after"},
        {"quirks": ["retry-after", "no-such-quirk"]},
        {"quirks": 7},
        {"seed": 1.5},
        {"fault_rates": {"500": 2}},
        {"fault_rates": {"418": 0.1}},
        {"invalid_subscribers": "("},
    ],
)
def test_invalid_settings_are_refused(changes: dict[str, object]) -> None:
    # GIVEN / WHEN / THEN a value of the wrong type or range is refused
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        with_changes(SandboxConfig(), changes)


def test_the_invalid_subscribers_pattern_ignores_case() -> None:
    # GIVEN / WHEN a pattern in lower case
    pattern = SandboxConfig(invalid_subscribers="^bounce@").invalid_subscriber_pattern

    # THEN it matches any case, as addresses compare
    assert pattern is not None
    assert pattern.search("BOUNCE@x.com")


def test_tokens_never_show_in_the_repr_or_the_json() -> None:
    # GIVEN a config with a token
    config = SandboxConfig(tokens={"pat-na1-secret-value": ALL_SCOPES})

    # WHEN it is printed or exported
    # THEN the token is nowhere
    assert "pat-na1-secret-value" not in repr(config)
    assert "pat-na1-secret-value" not in str(config_as_json(config))
    assert "tokens" not in config_as_json(config)


def test_the_json_uses_the_names_changes_take() -> None:
    # GIVEN a config with fault rates and quirks
    config = SandboxConfig(fault_rates={FaultKind.LOCKED: 0.1}, quirks=["pending", "canceled"])

    # WHEN exported and fed back as changes
    exported = config_as_json(config)

    # THEN it round-trips, the quirks as a sorted list of names
    assert exported["fault_rates"] == {"423": 0.1}
    assert exported["quirks"] == ["canceled", "pending"]
    assert with_changes(SandboxConfig(), exported) == config
