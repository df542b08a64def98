"""The sandbox's command line, parsed without starting a server."""

import pytest

from local.hubspot_sandbox import FaultKind, Quirk
from local.hubspot_sandbox.__main__ import build_parser


def test_faults_and_extra_tokens_repeat() -> None:
    # GIVEN / WHEN two faults and two extra tokens
    args = build_parser().parse_args(
        [
            "--fault", "500=0.1",
            "--fault", "timeout=0.02",
            "--extra-token", "reader=communication_preferences.read",
            "--extra-token", "nothing=",
        ]
    )  # fmt: skip

    # THEN each is parsed into its kind, rate, token and scopes
    assert args.fault == [(FaultKind.INTERNAL_ERROR, 0.1), (FaultKind.TIMEOUT, 0.02)]
    assert args.extra_token == [
        ("reader", frozenset({"communication_preferences.read"})),
        ("nothing", frozenset()),
    ]


def test_the_defaults_match_the_config_defaults() -> None:
    # GIVEN / WHEN no flags
    args = build_parser().parse_args([])

    # THEN the documented defaults apply
    assert (args.host, args.port, args.rate_limit, args.rate_window_ms) == ("127.0.0.1", 0, 190, 10_000)
    assert (args.daily_limit, args.batch_max_inputs, args.quirk) == (625_000, 100, [])


def test_quirks_repeat() -> None:
    # GIVEN / WHEN two quirks
    args = build_parser().parse_args(["--quirk", "retry-after", "--quirk", "partial-207"])

    # THEN both are parsed into their quirks
    assert args.quirk == [Quirk.RETRY_AFTER, Quirk.PARTIAL_207]


@pytest.mark.parametrize(
    "argument", [["--fault", "418=0.1"], ["--fault", "500"], ["--extra-token", "no-equals"]]
)
def test_malformed_flags_exit_with_a_usage_error(
    argument: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN / WHEN a malformed repeatable flag
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argument)

    # THEN argparse exits 2 and says what was expected
    assert exit_info.value.code == 2
    assert "expected" in capsys.readouterr().err


def test_an_unknown_quirk_exits_with_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN / WHEN a quirk the sandbox does not have
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--quirk", "no-such-quirk"])

    # THEN argparse exits 2 naming the flag
    assert exit_info.value.code == 2
    assert "--quirk" in capsys.readouterr().err
