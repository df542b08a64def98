"""Where the HubSpot client gets its bearer token."""

from __future__ import annotations

from typing import Protocol

from optout.hubspot.errors import TokenUnavailableError


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


def checked_token(token: str) -> str:
    """The token, if it can be one: visible ASCII with nothing blank inside.

    A private-app token is `pat-` and visible characters. Anything else would break the header
    it goes into, and the error an HTTP library raises for a bad header quotes the header, token
    and all: refuse it here with a message that says nothing of it.
    """
    if not token or not all("!" <= char <= "~" for char in token):
        raise TokenUnavailableError(
            "the HubSpot token holds characters a token cannot hold (blanks, controls)"
        )
    return token
