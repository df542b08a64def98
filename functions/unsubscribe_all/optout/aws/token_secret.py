"""The HubSpot token, read from AWS Secrets Manager and cached for a few minutes.

The secret's value is a private-app access token, plain or as JSON with a `token` key: visible
ASCII with nothing blank inside (surrounding blanks, such as a trailing newline, are dropped).
An OAuth grant (JSON with `refresh_token`, `expires_in`) is refused: its access token expires
after 30 minutes and this function does not refresh tokens, so it would start failing half an
hour after every rotation. After a 401 the client asks for a fresh read, since the secret may
have been rotated; of several calls refused with the same token at once, the first re-reads the
secret and the others take what it found.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from optout.aws.call_budget import CallBudget
from optout.hubspot.errors import TokenUnavailableError
from optout.hubspot.token_source import checked_token

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


_OAUTH_GRANT_KEYS = frozenset({"refresh_token", "expires_in", "access_token", "token_type"})


def token_from_secret(value: str) -> str:
    """The private-app token a secret holds; TokenUnavailableError saying why not (never quoting it)."""
    text = value.strip()
    if text.startswith("{"):
        try:
            decoded = json.loads(text)
        except ValueError:
            raise TokenUnavailableError("the secret looks like JSON but is not valid JSON") from None
        if isinstance(decoded, dict) and _OAUTH_GRANT_KEYS & decoded.keys():
            raise TokenUnavailableError(
                "the secret holds an OAuth grant (refresh_token/expires_in); store a private-app access "
                'token instead, plain or as {"token": "pat-..."}: OAuth access tokens expire after 30 minutes'
            )
        token = decoded.get("token") if isinstance(decoded, dict) else None
        if not isinstance(token, str):
            raise TokenUnavailableError("the secret is JSON without a string 'token' key")
        text = token.strip()
    if not text:
        raise TokenUnavailableError("the secret is empty")
    return checked_token(text)


class SecretsManagerTokenSource:
    """One read of the secret at a time; the threads needing the token meanwhile wait for that
    read, each no longer than its own deadline (`budget`), and take what it found, token or
    failure, rather than each reading again in turn."""

    def __init__(
        self,
        secret_id: str,
        secretsmanager: Callable[[], SecretsManagerClient],
        max_age_s: float = 300,
        clock: Callable[[], float] = time.monotonic,
        budget: CallBudget | None = None,
    ) -> None:
        self._secret_id = secret_id
        self._secretsmanager = secretsmanager
        self._max_age_s = max_age_s
        self._clock = clock
        self._budget = budget or CallBudget()
        self._changed = threading.Condition()
        self._token: str | None = None
        self._read_at = 0.0
        self._reading = False
        self._reads = 0  # reads finished, to tell a waiter that the one it waited for is done
        self._failure: TokenUnavailableError | None = None  # of the last read

    def __repr__(self) -> str:
        return f"SecretsManagerTokenSource(secret_id={self._secret_id!r})"

    def token(self) -> str:
        return self._current(lambda token: self._clock() - self._read_at < self._max_age_s)

    def refresh(self, refused: str) -> str:
        return self._current(lambda token: token != refused)

    def forget(self) -> None:
        """The next use reads the secret again (a copy restored from a SnapStart snapshot)."""
        with self._changed:
            self._token = None

    def _current(self, usable: Callable[[str], bool]) -> str:
        with self._changed:
            if self._token is not None and usable(self._token):
                return self._token
            if self._reading:
                return self._await_read()
            self._reading = True
        token: str | None = None
        failure = TokenUnavailableError("the HubSpot token could not be read")
        try:
            token = self._read()
        except TokenUnavailableError as error:
            failure = error
            raise
        finally:
            self._finish_read(token, None if token is not None else failure)
        return token

    def _finish_read(self, token: str | None, failure: TokenUnavailableError | None) -> None:
        with self._changed:
            self._reading = False
            self._reads += 1
            self._failure = failure
            if token is not None:
                self._token, self._read_at = token, self._clock()
            self._changed.notify_all()

    def _await_read(self) -> str:
        """The outcome of the read in progress (called holding the lock)."""
        reads = self._reads
        deadline = self._budget.deadline()
        finished = self._changed.wait_for(
            lambda: self._reads != reads, timeout=None if deadline is None else deadline.remaining()
        )
        if not finished:
            raise TokenUnavailableError("the HubSpot token is being read and no time is left to wait")
        if self._failure is not None or self._token is None:
            raise TokenUnavailableError(str(self._failure or "the HubSpot token could not be read"))
        return self._token

    def _read(self) -> str:
        try:
            response = self._secretsmanager().get_secret_value(SecretId=self._secret_id)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "unknown")
            raise TokenUnavailableError(f"could not read the HubSpot token secret ({code})") from None
        except BotoCoreError as error:
            raise TokenUnavailableError(f"could not reach Secrets Manager ({type(error).__name__})") from None
        if "SecretString" not in response:
            raise TokenUnavailableError("the secret has no string value")
        return token_from_secret(response["SecretString"])
