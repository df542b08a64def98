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
    def __init__(
        self,
        secret_id: str,
        secretsmanager: Callable[[], SecretsManagerClient],
        max_age_s: float = 300,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secret_id = secret_id
        self._secretsmanager = secretsmanager
        self._max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._read_at = 0.0

    def __repr__(self) -> str:
        return f"SecretsManagerTokenSource(secret_id={self._secret_id!r})"

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() - self._read_at >= self._max_age_s:
                self._token = self._read()
                self._read_at = self._clock()
            return self._token

    def refresh(self, refused: str) -> str:
        with self._lock:
            if self._token is None or self._token == refused:
                self._token = self._read()
                self._read_at = self._clock()
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
