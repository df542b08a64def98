"""The HubSpot token read from Secrets Manager (moto over HTTP): formats, caching, rotation, failures."""

from __future__ import annotations

import uuid

import pytest

from optout.aws.clients import AwsClients
from optout.aws.token_secret import SecretsManagerTokenSource
from optout.hubspot.errors import TokenUnavailableError


@pytest.fixture
def secret(aws):
    client = aws.client("secretsmanager")
    name = f"token-{uuid.uuid4().hex}"

    def put(value: str) -> str:
        if not client.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]:
            client.create_secret(Name=name, SecretString=value)
        else:
            client.put_secret_value(SecretId=name, SecretString=value)
        return name

    return put


def source(name: str, max_age_s: float = 300) -> SecretsManagerTokenSource:
    return SecretsManagerTokenSource(name, AwsClients().secretsmanager, max_age_s)


@pytest.mark.parametrize("value", ["pat-na1-abc", '{"token": "pat-na1-abc"}', "  pat-na1-abc\n"])
def test_the_token_is_read_plain_or_from_json(secret, value):
    assert source(secret(value)).token() == "pat-na1-abc"


def test_the_token_is_cached_until_refused(secret):
    # Given a token that was read, then rotated in the secret
    name = secret("old")
    tokens = source(name)
    assert tokens.token() == "old"
    secret("new")

    # Then the cached one is used until HubSpot refuses it, and the refusal re-reads the secret
    assert tokens.token() == "old"
    assert tokens.refresh("old") == "new"
    assert tokens.token() == "new"


def test_a_refusal_of_an_already_replaced_token_does_not_read_again(secret):
    # Given a token already refreshed by another call
    name = secret("old")
    tokens = source(name)
    tokens.token()
    secret("new")
    assert tokens.refresh("old") == "new"
    secret("newer")

    # When a call that used the old token is refused too, then it gets the current one
    assert tokens.refresh("old") == "new"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("   ", "empty"),
        ("{}", "'token' key"),
        ('{"token": 42}', "'token' key"),
        ("{not json", "not valid JSON"),
        ("pat-na1-abc\ndef", "characters a token cannot hold"),
        ('{"token": "pat na1"}', "characters a token cannot hold"),
        ("pat-na1-\u00e9", "characters a token cannot hold"),
        # an OAuth grant: its access token expires after 30 minutes and is never refreshed here
        ('{"access_token": "x", "refresh_token": "y", "expires_in": 1800}', "OAuth grant"),
        ('{"token": "pat-na1-abc", "refresh_token": "y"}', "OAuth grant"),
    ],
)
def test_a_bad_secret_value_is_token_unavailable(secret, value, problem):
    with pytest.raises(TokenUnavailableError, match=problem) as raised:
        source(secret(value)).token()
    assert "abc" not in str(raised.value) and "na1" not in repr(raised.value)


def test_a_missing_secret_is_token_unavailable_without_its_value(aws):
    with pytest.raises(TokenUnavailableError, match="ResourceNotFoundException") as raised:
        source("no-such-secret").token()
    assert raised.value.retryable


def test_the_repr_names_the_secret_not_the_token(secret):
    tokens = source(secret("pat-na1-secret-value"))
    tokens.token()
    assert "pat-na1-secret-value" not in repr(tokens)
