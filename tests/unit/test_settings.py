"""Settings from the environment: defaults, and a clear error naming a bad variable."""

import pytest

from optout.domain.unsubscribe_rule import BatchMode
from optout.settings import Settings, SettingsError

REQUIRED = {
    "HUBSPOT_TOKEN_SECRET_ID": "hubspot/token",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
}


def test_defaults_follow_hubspot_and_the_template():
    settings = Settings.from_environment(REQUIRED)
    assert settings.hubspot.base_url == "https://api.hubapi.com"
    assert settings.hubspot.api_version == "v4"
    assert settings.hubspot.batch_size == 100
    assert settings.batch_mode is BatchMode.AUTO
    assert settings.max_concurrency == 10
    assert settings.rate_limit_shared_by == 1
    assert settings.source_queue_url is None
    # 10 % of the window and 20 % of the day are left to the account's other integrations
    assert (settings.window_share, settings.daily_share) == (0.9, 0.8)
    assert settings.hubspot.account_time_zone == "UTC"


def test_every_setting_is_read():
    settings = Settings.from_environment(
        {
            **REQUIRED,
            "HUBSPOT_BASE_URL": "http://127.0.0.1:8080/",
            "HUBSPOT_API_VERSION": "2026-03",
            "HUBSPOT_BATCH_MODE": "OFF",
            "HUBSPOT_BATCH_SIZE": "25",
            "HUBSPOT_MAX_CONCURRENCY": "4",
            "HUBSPOT_RATE_LIMIT_SHARED_BY": "3",
            "SOURCE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/queue",
            "IDEMPOTENCY_TTL_SECONDS": "3600",
            "HUBSPOT_TOKEN_CACHE_SECONDS": "60",
            "HUBSPOT_WINDOW_SHARE_PERCENT": "50",
            "HUBSPOT_DAILY_SHARE_PERCENT": "100",
            "HUBSPOT_ACCOUNT_TIME_ZONE": "Europe/Berlin",
        }
    )
    assert (settings.window_share, settings.daily_share) == (0.5, 1.0)
    assert settings.hubspot.account_time_zone == "Europe/Berlin"
    assert settings.hubspot.api_version == "2026-03"
    assert settings.batch_mode is BatchMode.OFF
    assert (settings.hubspot.batch_size, settings.max_concurrency, settings.hubspot.max_connections) == (
        25,
        4,
        4,
    )
    assert (settings.idempotency_ttl_s, settings.token_cache_s) == (3600, 60)
    assert settings.rate_limit_shared_by == 3


@pytest.mark.parametrize(
    ("changes", "name", "problem"),
    [
        ({"HUBSPOT_TOKEN_SECRET_ID": ""}, "HUBSPOT_TOKEN_SECRET_ID", "is not set"),
        ({"IDEMPOTENCY_TABLE_NAME": " "}, "IDEMPOTENCY_TABLE_NAME", "is not set"),
        ({"DEAD_LETTER_QUEUE_URL": "my-dlq"}, "DEAD_LETTER_QUEUE_URL", "queue URL"),
        ({"HUBSPOT_BASE_URL": "http://api.hubapi.com"}, "HUBSPOT_BASE_URL", "https"),
        ({"HUBSPOT_BASE_URL": "ftp://x"}, "HUBSPOT_BASE_URL", "http(s) URL"),
        ({"HUBSPOT_API_VERSION": "v3"}, "HUBSPOT_API_VERSION", "v4, 2026-03, 2026-09"),
        # a date HubSpot has not published answers 404 on every call: refused before the first
        ({"HUBSPOT_API_VERSION": "2026-06"}, "HUBSPOT_API_VERSION", "published versions"),
        ({"HUBSPOT_API_VERSION": "2027-03"}, "HUBSPOT_API_VERSION", "published versions"),
        ({"HUBSPOT_WINDOW_SHARE_PERCENT": "0"}, "HUBSPOT_WINDOW_SHARE_PERCENT", "between 1 and 100"),
        ({"HUBSPOT_DAILY_SHARE_PERCENT": "101"}, "HUBSPOT_DAILY_SHARE_PERCENT", "between 1 and 100"),
        ({"HUBSPOT_ACCOUNT_TIME_ZONE": "CEST"}, "HUBSPOT_ACCOUNT_TIME_ZONE", "IANA time zone"),
        ({"HUBSPOT_ACCOUNT_TIME_ZONE": "../../etc/passwd"}, "HUBSPOT_ACCOUNT_TIME_ZONE", "IANA time zone"),
        ({"HUBSPOT_BATCH_MODE": "sometimes"}, "HUBSPOT_BATCH_MODE", "auto, on, off"),
        ({"HUBSPOT_BATCH_SIZE": "0"}, "HUBSPOT_BATCH_SIZE", "between 1 and 1000"),
        ({"HUBSPOT_MAX_CONCURRENCY": "many"}, "HUBSPOT_MAX_CONCURRENCY", "whole number"),
        ({"HUBSPOT_MAX_CONCURRENCY": "٣"}, "HUBSPOT_MAX_CONCURRENCY", "whole number"),
        ({"HUBSPOT_BATCH_SIZE": "9" * 5000}, "HUBSPOT_BATCH_SIZE", "between 1 and 1000"),
    ],
)
def test_a_bad_setting_fails_naming_the_variable(changes, name, problem):
    with pytest.raises(SettingsError) as raised:
        Settings.from_environment({**REQUIRED, **changes})
    assert raised.value.name == name
    assert str(raised.value).startswith(name)
    assert problem in str(raised.value)


def test_one_click_links_are_off_without_a_key_and_read_whole_with_one():
    # Given no key, then the template's four variables
    without = Settings.from_environment(REQUIRED).one_click
    with_key = Settings.from_environment(
        {
            **REQUIRED,
            "ONE_CLICK_KEY_ID": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "ONE_CLICK_STACK_NAME": "unsubscribe-prod",
            "ONE_CLICK_DOMAIN_NAME": "Unsubscribe.Example.com",
            "ONE_CLICK_LINK_MAX_AGE_DAYS": "365",
        }
    ).one_click
    # Then links are off without a key (default age three years), and the context names the stack
    assert (without.key_id, without.max_age_days, without.domain_name) == (None, 1095, None)
    assert with_key.domain_name == "unsubscribe.example.com"
    assert with_key.max_age_days == 365
    assert with_key.encryption_context == {"purpose": "one-click-unsubscribe", "stack": "unsubscribe-prod"}


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"ONE_CLICK_KEY_ID": "arn:aws:kms:us-east-1:1:key/k"}, "ONE_CLICK_STACK_NAME"),
        ({"ONE_CLICK_DOMAIN_NAME": "https://unsubscribe.example.com"}, "ONE_CLICK_DOMAIN_NAME"),
        ({"ONE_CLICK_DOMAIN_NAME": "localhost"}, "ONE_CLICK_DOMAIN_NAME"),
        ({"ONE_CLICK_LINK_MAX_AGE_DAYS": "29"}, "ONE_CLICK_LINK_MAX_AGE_DAYS"),
        ({"ONE_CLICK_LINK_MAX_AGE_DAYS": "3651"}, "ONE_CLICK_LINK_MAX_AGE_DAYS"),
    ],
)
def test_a_bad_one_click_setting_fails_naming_the_variable(changes, name):
    with pytest.raises(SettingsError) as error:
        Settings.from_environment({**REQUIRED, **changes})
    assert error.value.name == name
