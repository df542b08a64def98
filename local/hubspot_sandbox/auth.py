"""Bearer tokens and the granular scopes each operation needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from local.hubspot_sandbox.routes import Operation

READ = "communication_preferences.read"
WRITE = "communication_preferences.write"
READ_WRITE = "communication_preferences.read_write"
BATCH_READ = "communication_preferences.statuses.batch.read"
BATCH_WRITE = "communication_preferences.statuses.batch.write"
ALL_SCOPES = frozenset({READ, WRITE, READ_WRITE, BATCH_READ, BATCH_WRITE})

# Any one of an operation's scopes is enough, as in the OpenAPI documents' security lists.
REQUIRED_SCOPES: Mapping[Operation, tuple[str, ...]] = {
    Operation.UNSUBSCRIBE_ALL: (WRITE, READ_WRITE),
    Operation.READ_UNSUBSCRIBE_ALL: (READ, READ_WRITE),
    Operation.READ_STATUSES: (READ, READ_WRITE),
    Operation.BATCH_UNSUBSCRIBE_ALL: (BATCH_WRITE,),
    Operation.BATCH_READ_UNSUBSCRIBE_ALL: (BATCH_READ,),
}


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def missing_scopes(operation: Operation, granted: frozenset[str]) -> tuple[str, ...]:
    """The scopes to ask for, or () when the token already has one of them."""
    required = REQUIRED_SCOPES[operation]
    return () if granted.intersection(required) else required


class TokenRegistry:
    """The accepted tokens and their scopes. Its repr never shows a token."""

    def __init__(self, tokens: Mapping[str, Iterable[str]]) -> None:
        self._scopes: dict[str, frozenset[str]] = {}
        self.replace_all(tokens)

    def __repr__(self) -> str:
        return f"TokenRegistry({len(self._scopes)} tokens)"

    def __len__(self) -> int:
        return len(self._scopes)

    def replace_all(self, tokens: Mapping[str, Iterable[str]]) -> None:
        self._scopes = {}
        for token, scopes in tokens.items():
            self.add(token, scopes)

    def add(self, token: str, scopes: Iterable[str]) -> None:
        if not isinstance(token, str) or not token or any(character.isspace() for character in token):
            raise ValueError("a token must be a non-empty string without whitespace")
        if isinstance(scopes, str) or not all(isinstance(scope, str) for scope in scopes):
            raise ValueError("scopes must be a list of scope names")
        self._scopes[token] = frozenset(scopes)

    def revoke(self, token: str) -> None:
        self._scopes.pop(token, None)

    def scopes_of(self, token: str | None) -> frozenset[str] | None:
        """The token's scopes, or None when it is missing, unknown or revoked."""
        return None if token is None else self._scopes.get(token)
