"""Where the HubSpot client gets its bearer token."""

from __future__ import annotations

from typing import Protocol


class TokenSource(Protocol):
    """Gives the current token; `refresh` replaces one HubSpot refused (it may have been rotated)."""

    def token(self) -> str: ...

    def refresh(self, refused: str) -> str: ...


class StaticToken:
    """A token given directly: the sandbox demo, tests, benchmarks."""

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self) -> str:
        return self._token

    def refresh(self, refused: str) -> str:
        return self._token

    def __repr__(self) -> str:
        return "StaticToken(<redacted>)"
