"""The one Powertools Logger and Metrics of the function.

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (set in template.yaml). There is no tracer in the package: Lambda's
active tracing records the function's own segments without one, and deeper traces are the
OpenTelemetry layer's, when the template turns it on (the X-Ray SDK is in maintenance mode and
cost a fifth of a second of every cold start).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord
from aws_lambda_powertools.metrics import MetricUnit

from optout.masking import mask_emails_in


class EmailMaskingFormatter(LambdaPowertoolsFormatter):
    """Masks every email-shaped string of a log line, whatever key or exception text holds it."""

    def serialize(self, log: LogRecord) -> str:
        masked: dict[str, Any] = mask_emails_in(dict(log))
        return super().serialize(log=masked)


logger = Logger(logger_formatter=EmailMaskingFormatter(), utc=True)

# At DEBUG, botocore logs whole responses (the token from Secrets Manager, message bodies),
# urllib3 the URLs (HubSpot's hold addresses) and Powertools' resolver its route arguments: they
# stay at WARNING whatever the function's log level (the function's own logger is masked).
for _library in ("botocore", "boto3", "urllib3", "aws_lambda_powertools"):
    logging.getLogger(_library).setLevel(logging.WARNING)
metrics = Metrics()


class MetricsRecorder:
    """Adds metrics from any thread; Powertools' Metrics is not meant to be shared unguarded."""

    def __init__(self, target: Metrics = metrics) -> None:
        self._target = target
        self._lock = threading.Lock()

    def count(self, name: str, value: float = 1) -> None:
        if value:
            with self._lock:
                self._target.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def count_by(self, name: str, dimension: str, value: str) -> None:
        """One count with its own dimension (a rate-limit policy, say), flushed at once."""
        with (
            self._lock,
            single_metric(
                name=name, unit=MetricUnit.Count, value=1, default_dimensions=self._target.default_dimensions
            ) as metric,
        ):
            metric.add_dimension(name=dimension, value=value)

    def milliseconds(self, name: str, value: float) -> None:
        with self._lock:
            self._target.add_metric(name=name, unit=MetricUnit.Milliseconds, value=value)
