"""The sandbox's tokens and scopes."""

import pytest

from local.hubspot_sandbox import auth
from local.hubspot_sandbox.auth import TokenRegistry, bearer_token, missing_scopes
from local.hubspot_sandbox.routes import Operation


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("Bearer  abc ", "abc"),
        ("Bearer", None),
        ("Bearer ", None),
        ("Basic abc", None),
        ("abc", None),
        (None, None),
    ],
)
def test_the_token_is_read_from_a_bearer_authorization_header_only(
    header: str | None, token: str | None
) -> None:
    # GIVEN / WHEN / THEN
    assert bearer_token(header) == token


@pytest.mark.parametrize(
    ("operation", "granted", "missing"),
    [
        (Operation.UNSUBSCRIBE_ALL, {auth.WRITE}, ()),
        (Operation.UNSUBSCRIBE_ALL, {auth.READ_WRITE}, ()),
        (Operation.UNSUBSCRIBE_ALL, {auth.READ, auth.BATCH_WRITE}, (auth.WRITE, auth.READ_WRITE)),
        (Operation.READ_UNSUBSCRIBE_ALL, {auth.READ}, ()),
        (Operation.READ_STATUSES, {auth.WRITE}, (auth.READ, auth.READ_WRITE)),
        (Operation.BATCH_UNSUBSCRIBE_ALL, {auth.READ_WRITE}, (auth.BATCH_WRITE,)),
        (Operation.BATCH_READ_UNSUBSCRIBE_ALL, {auth.BATCH_WRITE}, (auth.BATCH_READ,)),
        (Operation.BATCH_READ_UNSUBSCRIBE_ALL, auth.ALL_SCOPES, ()),
    ],
)
def test_any_one_of_an_operations_scopes_is_enough(
    operation: Operation, granted: set[str], missing: tuple[str, ...]
) -> None:
    # GIVEN / WHEN / THEN the scopes to ask for are listed only when none is granted
    assert missing_scopes(operation, frozenset(granted)) == missing


def test_tokens_are_added_revoked_and_replaced() -> None:
    # GIVEN a registry with one token
    registry = TokenRegistry({"first": [auth.READ]})

    # WHEN another is added and the first revoked
    registry.add("second", [auth.WRITE])
    registry.revoke("first")

    # THEN only the second is known, with its scopes
    assert registry.scopes_of("first") is None
    assert registry.scopes_of("second") == frozenset({auth.WRITE})
    assert registry.scopes_of(None) is None

    # WHEN the whole set is replaced
    registry.replace_all({"third": []})

    # THEN only the new set is known
    assert (registry.scopes_of("second"), registry.scopes_of("third"), len(registry)) == (
        None,
        frozenset(),
        1,
    )


def test_the_registry_never_shows_a_token() -> None:
    # GIVEN / WHEN / THEN
    assert "secret-value" not in repr(TokenRegistry({"secret-value": auth.ALL_SCOPES}))


@pytest.mark.parametrize(
    ("token", "scopes"), [("", []), ("a b", []), ("ok", "communication_preferences.read")]
)
def test_malformed_tokens_and_scope_lists_are_refused(token: str, scopes: list[str] | str) -> None:
    # GIVEN / WHEN / THEN an empty or spaced token, or scopes given as one string, are refused
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        TokenRegistry({}).add(token, scopes)
