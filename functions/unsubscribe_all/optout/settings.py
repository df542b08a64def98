"""The function's configuration, read once from the environment and checked before any work.

Names are a contract with template.yaml and other tooling; a bad value fails with a
SettingsError that names the variable, never later as a traceback inside boto3 or urllib3.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from optout.domain.one_click import OneClickConfig
from optout.domain.unsubscribe_rule import BatchMode
from optout.hubspot.daily_reset import validate_time_zone
from optout.hubspot.transport import ClientConfig, validate_base_url
from optout.hubspot.versions import validate_api_version
from optout.whole_numbers import whole_number

T = TypeVar("T")


class SettingsError(Exception):
    """A setting is missing or invalid; `name` is the environment variable."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name} {problem}")
        self.name = name
        self.problem = problem


@dataclass(frozen=True)
class Settings:
    token_secret_id: str
    idempotency_table_name: str
    dead_letter_queue_url: str
    source_queue_url: str | None
    hubspot: ClientConfig
    batch_mode: BatchMode
    max_concurrency: int
    rate_limit_shared_by: int
    window_share: float
    daily_share: float
    idempotency_ttl_s: int
    token_cache_s: int
    one_click: OneClickConfig

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = _Environment(os.environ if environ is None else environ)
        max_concurrency = env.integer("HUBSPOT_MAX_CONCURRENCY", default=10, minimum=1, maximum=64)
        return cls(
            token_secret_id=env.required("HUBSPOT_TOKEN_SECRET_ID"),
            idempotency_table_name=env.required("IDEMPOTENCY_TABLE_NAME"),
            dead_letter_queue_url=env.url("DEAD_LETTER_QUEUE_URL", required=True) or "",
            source_queue_url=env.url("SOURCE_QUEUE_URL", required=False),
            hubspot=ClientConfig(
                base_url=env.checked("HUBSPOT_BASE_URL", "https://api.hubapi.com", validate_base_url),
                api_version=env.checked("HUBSPOT_API_VERSION", "v4", validate_api_version),
                batch_size=env.integer("HUBSPOT_BATCH_SIZE", default=100, minimum=1, maximum=1000),
                max_connections=max_concurrency,
                account_time_zone=env.checked("HUBSPOT_ACCOUNT_TIME_ZONE", "UTC", validate_time_zone),
            ),
            batch_mode=env.checked("HUBSPOT_BATCH_MODE", "auto", BatchMode.parse),
            max_concurrency=max_concurrency,
            rate_limit_shared_by=env.integer(
                "HUBSPOT_RATE_LIMIT_SHARED_BY", default=1, minimum=1, maximum=1000
            ),
            # The rest of the account's limits belong to its other integrations.
            window_share=env.integer("HUBSPOT_WINDOW_SHARE_PERCENT", default=90, minimum=1, maximum=100)
            / 100,
            daily_share=env.integer("HUBSPOT_DAILY_SHARE_PERCENT", default=80, minimum=1, maximum=100) / 100,
            idempotency_ttl_s=env.integer(
                "IDEMPOTENCY_TTL_SECONDS", default=14 * 24 * 3600, minimum=60, maximum=366 * 24 * 3600
            ),
            token_cache_s=env.integer("HUBSPOT_TOKEN_CACHE_SECONDS", default=300, minimum=0, maximum=86400),
            one_click=_one_click(env),
        )


# A host name as DNS writes it (a custom domain for one-click links).
_DOMAIN_NAME = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")


def _domain_name(value: str) -> str:
    if not _DOMAIN_NAME.fullmatch(value):
        raise ValueError("must be a host name such as unsubscribe.example.com")
    return value.lower()


def _one_click(env: _Environment) -> OneClickConfig:
    key_id = env.optional("ONE_CLICK_KEY_ID")
    stack_name = env.optional("ONE_CLICK_STACK_NAME")
    if key_id is not None and stack_name is None:
        raise SettingsError("ONE_CLICK_STACK_NAME", "is not set (ONE_CLICK_KEY_ID is)")
    domain_name = env.optional("ONE_CLICK_DOMAIN_NAME")
    return OneClickConfig(
        key_id=key_id,
        stack_name=stack_name or "",
        domain_name=None if domain_name is None else env.checked("ONE_CLICK_DOMAIN_NAME", "", _domain_name),
        # At least 30 days: CAN-SPAM wants an opt-out honoured for 30 days after the mail is sent.
        max_age_days=env.integer("ONE_CLICK_LINK_MAX_AGE_DAYS", default=1095, minimum=30, maximum=3650),
    )


class _Environment:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def _value(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None

    def optional(self, name: str) -> str | None:
        return self._value(name)

    def required(self, name: str) -> str:
        value = self._value(name)
        if value is None:
            raise SettingsError(name, "is not set")
        return value

    def checked(self, name: str, default: str, parse: Callable[[str], T]) -> T:
        value = self._value(name) or default
        try:
            return parse(value)
        except ValueError as error:
            raise SettingsError(name, f"{error} (got {value!r})") from None

    def integer(self, name: str, *, default: int, minimum: int, maximum: int) -> int:
        value = self._value(name)
        if value is None:
            return default
        number = whole_number(value, maximum=maximum)
        if number is None or number < minimum:
            # Cut short: a setting is a few digits, and this message is logged.
            raise SettingsError(
                name, f"must be a whole number between {minimum} and {maximum} (got {value[:40]!r})"
            )
        return number

    def url(self, name: str, *, required: bool) -> str | None:
        value = self.required(name) if required else self._value(name)
        if value is not None and not value.startswith(("https://", "http://")):
            raise SettingsError(name, f"must be a queue URL such as https://sqs... (got {value!r})")
        return value
