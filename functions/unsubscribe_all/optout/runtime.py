"""Everything an invocation needs, wired together once per container from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from optout.aws_clients import AwsClients
from optout.dead_letters import DeadLetterQueue
from optout.hubspot.client import CallRecord, HubSpotClient
from optout.hubspot.errors import MissingScopesError
from optout.hubspot.pacing import RateLimitPacer
from optout.idempotency import IdempotencyGuard
from optout.observability import MetricsRecorder, logger
from optout.retry_schedule import RetrySchedule
from optout.settings import Settings
from optout.token_source import SecretsManagerTokenSource
from optout.unsubscribe_service import UnsubscribeService
from optout.unsubscriber import Unsubscriber


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    hubspot: HubSpotClient
    unsubscriber: Unsubscriber
    idempotency: IdempotencyGuard
    service: UnsubscribeService
    dead_letters: DeadLetterQueue
    retries: RetrySchedule
    metrics: MetricsRecorder

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
            settings.token_secret_id, aws.secretsmanager, settings.token_cache_s
        )
        others_in_flight = (settings.rate_limit_shared_by - 1) * settings.max_concurrency
        hubspot = HubSpotClient(
            tokens, settings.hubspot, pacer=RateLimitPacer(others_in_flight), observer=record_call
        )
        unsubscriber = Unsubscriber(
            hubspot,
            batch_mode=settings.batch_mode,
            max_concurrency=settings.max_concurrency,
            on_batch_disabled=warn_batch_disabled,
        )
        idempotency = IdempotencyGuard(
            settings.idempotency_table_name, settings.idempotency_ttl_s, aws.dynamodb
        )
        return cls(
            settings=settings,
            hubspot=hubspot,
            unsubscriber=unsubscriber,
            idempotency=idempotency,
            service=UnsubscribeService(unsubscriber, idempotency),
            dead_letters=DeadLetterQueue(settings.dead_letter_queue_url, aws.sqs),
            retries=RetrySchedule(settings.source_queue_url, aws.sqs),
            metrics=metrics,
        )
