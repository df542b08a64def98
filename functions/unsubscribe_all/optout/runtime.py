"""Everything an invocation needs, wired together once per container from the settings.

The one place that knows every layer: the triggers get the service and the adapters they use,
the service gets the unsubscribe rule and the idempotency store, and every adapter its client.
It also knows what a SnapStart snapshot may hold and what its restored copies must renew.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from optout.aws.call_budget import CallBudget
from optout.aws.clients import AwsClients
from optout.aws.dead_letters import DeadLetterQueue
from optout.aws.idempotency_store import DynamoDBIdempotencyStore
from optout.aws.link_key import KmsLinkKey
from optout.aws.opt_out_queue import OptOutQueue
from optout.aws.retry_schedule import RetrySchedule
from optout.aws.token_secret import SecretsManagerTokenSource
from optout.domain.one_click import OneClickLinks
from optout.domain.service import UnsubscribeService
from optout.domain.unsubscribe_rule import UnsubscribeRule
from optout.hubspot.client import HubSpotClient
from optout.hubspot.daily_reset import DailyReset
from optout.hubspot.errors import MissingScopesError
from optout.hubspot.pacing import RateLimitPacer
from optout.hubspot.transport import CallRecord
from optout.observability import MetricsRecorder, logger
from optout.settings import Settings
from optout.triggers.sqs import SqsTrigger


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    store: DynamoDBIdempotencyStore
    service: UnsubscribeService
    sqs: SqsTrigger
    aws_budget: CallBudget  # the deadline every AWS call of an invocation ends by
    one_click: OneClickLinks | None  # None: the stack has no key or queue for one-click links
    aws: AwsClients
    tokens: SecretsManagerTokenSource
    hubspot: HubSpotClient
    retries: RetrySchedule

    def prepare(self) -> None:
        """Builds now what a first invocation would (the AWS clients, the store's persistence),
        without calling anything: what a SnapStart snapshot holds, so no restored copy pays it."""
        self.aws.dynamodb()
        self.aws.secretsmanager()
        self.aws.sqs()
        self.store.prepare()

    def renew_after_restore(self) -> None:
        """What copies restored from one SnapStart snapshot must not share: the token (the secret
        may have been rotated since), open connections, and the seeds of their random jitter."""
        self.tokens.forget()
        self.aws.close_connections()
        self.hubspot.renew_after_restore()
        self.retries.reseed()
        random.seed()  # botocore's retry jitter draws from the module's generator

    @classmethod
    def from_settings(cls, settings: Settings, aws: AwsClients | None = None) -> Runtime:
        aws = aws or AwsClients()
        metrics = MetricsRecorder()

        def record_call(call: CallRecord) -> None:
            metrics.count("HubSpotCalls")
            metrics.milliseconds("HubSpotCallLatency", call.duration_s * 1000)

        def warn_batch_disabled(error: MissingScopesError) -> None:
            logger.warning(
                "HubSpot refused the batch endpoint; using single calls from now on",
                required_scopes=list(error.required_scopes),
            )

        tokens = SecretsManagerTokenSource(
            settings.token_secret_id, aws.secretsmanager, settings.token_cache_s, budget=aws.budget
        )
        pacer = RateLimitPacer(
            (settings.rate_limit_shared_by - 1) * settings.max_concurrency,
            window_share=settings.window_share,
            daily_share=settings.daily_share,
            seconds_until_daily_reset=DailyReset(settings.hubspot.account_time_zone).seconds_until,
        )
        hubspot = HubSpotClient(tokens, settings.hubspot, pacer=pacer, observer=record_call)
        rule = UnsubscribeRule(
            hubspot,
            batch_mode=settings.batch_mode,
            max_concurrency=settings.max_concurrency,
            on_batch_disabled=warn_batch_disabled,
        )
        store = DynamoDBIdempotencyStore(
            settings.idempotency_table_name, settings.idempotency_ttl_s, aws.dynamodb, aws.budget
        )
        service = UnsubscribeService(rule, store, metrics)
        retries = RetrySchedule(settings.source_queue_url, aws.sqs, aws.budget)
        sqs = SqsTrigger(
            service,
            DeadLetterQueue(settings.dead_letter_queue_url, aws.sqs, aws.budget),
            retries,
            metrics,
            aws.budget,
        )
        return cls(
            settings=settings,
            store=store,
            service=service,
            sqs=sqs,
            aws_budget=aws.budget,
            one_click=_one_click_links(settings, aws),
            aws=aws,
            tokens=tokens,
            hubspot=hubspot,
            retries=retries,
        )


def _one_click_links(settings: Settings, aws: AwsClients) -> OneClickLinks | None:
    config = settings.one_click
    if config.key_id is None or settings.source_queue_url is None:
        return None
    key = KmsLinkKey(config.key_id, config.encryption_context, aws.kms)
    return OneClickLinks(key, OptOutQueue(settings.source_queue_url, aws.sqs), config.max_age_days)
