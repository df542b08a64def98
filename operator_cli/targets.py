"""Which service the CLI talks to: the local stack of `make run`, or a deployed stack.

- `--stack-name NAME`: a deployed stack; its Outputs (QueueUrl, DeadLetterQueueUrl, ApiUrl) are
  read with CloudFormation, with the usual credentials and region (AWS_PROFILE, AWS_REGION), or
  `--profile` and `--region`.
- otherwise the local stack: `make run` writes `.run/local-stack.json` while it runs (path from
  `--local-state` or UNSUBSCRIBE_ALL_LOCAL_STATE); its endpoint gets dummy credentials, so
  nothing can reach a real account by mistake. `--profile` names AWS, so it is never the local stack.
- otherwise, when the URL a command needs is given explicitly, the usual AWS session (or `--profile`'s).

`--queue-url`, `--dlq-url` and `--api-url` override what either target says.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from operator_cli.errors import UsageError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

LOCAL_STATE_ENV = "UNSUBSCRIBE_ALL_LOCAL_STATE"
LOCAL_STATE_RELATIVE = Path(".run") / "local-stack.json"
_CHECKOUT_ROOT = Path(__file__).resolve().parent.parent
# moto accepts any credentials; these can never authenticate against a real account.
_DUMMY_ACCESS_KEY = "testing"
_DUMMY_SECRET_KEY = "testing"  # noqa: S105 - moto's documented dummy, not a secret
NO_TARGET_HINT = (
    "start the local stack with `make run` (it writes .run/local-stack.json), "
    "or pass --stack-name NAME for a deployed stack"
)
# In the User-Agent of every call ("app/..."): CloudTrail, and the local permission check, tell the
# operator's calls by it.
USER_AGENT_APP_ID = "unsubscribe-all-cli"
# botocore's standard retries: throttling, 5xx and connection errors, with backoff and jitter.
_RETRIES = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
    user_agent_appid=USER_AGENT_APP_ID,  # type: ignore[call-arg]  # botocore-stubs lag botocore
)


class _CloudFormation(Protocol):
    def describe_stacks(self, *, StackName: str) -> Mapping[str, Any]: ...  # noqa: N803 - boto3's name


@dataclass(frozen=True)
class Overrides:
    """Explicit URLs from the command line; each replaces what the target says."""

    queue_url: str | None = None
    dead_letter_queue_url: str | None = None
    api_url: str | None = None


@dataclass(frozen=True)
class Target:
    """Where the service is: URLs, and how to reach its AWS APIs."""

    description: str
    session: boto3.session.Session
    region: str
    endpoint_url: str | None = None
    queue_url: str | None = None
    dead_letter_queue_url: str | None = None
    api_url: str | None = None

    def sqs(self, config: Config | None = None) -> SQSClient:
        merged = _RETRIES.merge(config) if config is not None else _RETRIES
        client: SQSClient = self.session.client(
            "sqs", region_name=self.region, endpoint_url=self.endpoint_url, config=merged
        )
        return client

    def credentials(self) -> ReadOnlyCredentials:
        found = self.session.get_credentials()
        if found is None:
            raise UsageError(
                "no AWS credentials found: set AWS_PROFILE (or the AWS_ACCESS_KEY_ID variables) "
                "for a deployed stack"
            )
        return found.get_frozen_credentials()

    def require_queue_url(self) -> str:
        return _required(self.queue_url, "queue URL", "--queue-url")

    def require_dead_letter_queue_url(self) -> str:
        return _required(self.dead_letter_queue_url, "dead-letter queue URL", "--dlq-url")

    def require_api_url(self) -> str:
        return _required(self.api_url, "API URL", "--api-url")


def _required(value: str | None, what: str, flag: str) -> str:
    if not value:
        raise UsageError(f"the target has no {what}: pass {flag}")
    return value


def default_local_state_paths(cwd: Path | None = None) -> list[Path]:
    """Where `make run` may have written its state: this folder and its parents, then the checkout."""
    start = (cwd or Path.cwd()).resolve()
    candidates = [folder / LOCAL_STATE_RELATIVE for folder in (start, *start.parents)]
    candidates.append(_CHECKOUT_ROOT / LOCAL_STATE_RELATIVE)
    return list(dict.fromkeys(candidates))


def _optional_string(state: Mapping[str, Any], key: str, path: Path) -> str | None:
    value = state.get(key)
    return None if value is None else _required_string(state, key, path)


def _required_string(state: Mapping[str, Any], key: str, path: Path) -> str:
    value = state.get(key)
    if not isinstance(value, str) or not value:
        raise UsageError(f"{path}: {key} is missing or not a string; restart `make run`")
    return value


def _local_session(region: str) -> boto3.session.Session:
    """Dummy credentials, and no AWS_PROFILE: an operator's production profile plays no part."""
    without_profile = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    return boto3.session.Session(
        botocore_session=without_profile,
        aws_access_key_id=_DUMMY_ACCESS_KEY,
        aws_secret_access_key=_DUMMY_SECRET_KEY,
        region_name=region,
    )


def read_local_state(path: Path) -> Target:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read the local stack's state {path}: {error.strerror}") from None
    except ValueError:
        raise UsageError(f"{path} is not valid JSON; restart `make run`") from None
    if not isinstance(state, dict):
        raise UsageError(f"{path} does not hold a JSON object; restart `make run`")
    region = _required_string(state, "region", path)
    return Target(
        description=f"local stack ({path})",
        session=_local_session(region),
        region=region,
        endpoint_url=_required_string(state, "awsEndpointUrl", path),
        queue_url=_optional_string(state, "queueUrl", path),
        dead_letter_queue_url=_optional_string(state, "deadLetterQueueUrl", path),
        api_url=_optional_string(state, "apiUrl", path),
    )


def _session(region: str | None, profile: str | None = None) -> tuple[boto3.session.Session, str]:
    try:
        session = boto3.session.Session(region_name=region, profile_name=profile)
    except BotoCoreError as error:  # a profile that does not exist, say
        raise UsageError(str(error)) from None
    if not session.region_name:
        raise UsageError("no AWS region: pass --region or set AWS_REGION")
    return session, session.region_name


def read_stack(stack_name: str, region: str | None, profile: str | None = None) -> Target:
    session, region_name = _session(region, profile)
    cloudformation = cast("_CloudFormation", session.client("cloudformation", config=_RETRIES))
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except NoCredentialsError:
        raise UsageError("no AWS credentials found: set AWS_PROFILE or the AWS_* variables") from None
    except NoRegionError:
        raise UsageError("no AWS region: pass --region or set AWS_REGION") from None
    except ClientError as error:
        details = error.response.get("Error", {})
        raise UsageError(
            f"cannot read stack {stack_name} in {region_name}: {details.get('Message', details.get('Code'))}"
        ) from None
    except BotoCoreError as error:
        raise UsageError(f"cannot reach CloudFormation in {region_name}: {error}") from None
    outputs = {
        output["OutputKey"]: output["OutputValue"]
        for stack in stacks
        for output in stack.get("Outputs", [])
        if "OutputKey" in output and "OutputValue" in output
    }
    return Target(
        description=f"stack {stack_name} ({region_name})",
        session=session,
        region=region_name,
        queue_url=outputs.get("QueueUrl"),
        dead_letter_queue_url=outputs.get("DeadLetterQueueUrl"),
        api_url=outputs.get("ApiUrl"),
    )


def _apply(target: Target, overrides: Overrides) -> Target:
    return replace(
        target,
        queue_url=overrides.queue_url or target.queue_url,
        dead_letter_queue_url=overrides.dead_letter_queue_url or target.dead_letter_queue_url,
        api_url=overrides.api_url or target.api_url,
    )


def resolve_target(
    *,
    stack_name: str | None,
    region: str | None,
    local_state: str | None,
    overrides: Overrides,
    profile: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Target:
    """The target the options name; UsageError (exit 2) when there is none."""
    if stack_name:
        return _apply(read_stack(stack_name, region, profile), overrides)
    if profile is not None:
        return _explicit(region, profile, overrides)
    explicit = local_state or environ.get(LOCAL_STATE_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise UsageError(f"no local stack state at {path}: is `make run` running? Or {NO_TARGET_HINT}")
        return _apply(read_local_state(path), overrides)
    found = next((path for path in default_local_state_paths() if path.is_file()), None)
    if found is not None:
        return _apply(read_local_state(found), overrides)
    return _explicit(region, None, overrides)


def _explicit(region: str | None, profile: str | None, overrides: Overrides) -> Target:
    """AWS reached through the URLs given on the command line."""
    if not (overrides.queue_url or overrides.dead_letter_queue_url or overrides.api_url):
        hint = "pass --stack-name NAME (or the URLs) with --profile" if profile else NO_TARGET_HINT
        raise UsageError(f"no target: {hint}")
    session, region_name = _session(region, profile)
    named = f"profile {profile}, " if profile else ""
    return _apply(Target(f"AWS ({named}explicit URLs)", session, region_name), overrides)
