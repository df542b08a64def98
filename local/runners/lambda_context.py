"""The context object Lambda passes a handler, with remaining time that really runs down."""

from __future__ import annotations

import time
import uuid

from aws_lambda_powertools.utilities.typing import LambdaContext

from local.aws.moto_endpoint import ACCOUNT_ID, REGION


class LocalLambdaContext(LambdaContext):
    """Powertools' LambdaContext, filled in as Lambda fills it, with a running clock."""

    def __init__(
        self,
        *,
        function_name: str = "hubspot-unsubscribe-all-local",
        memory_limit_in_mb: int = 256,
        timeout_s: float = 30.0,
        aws_request_id: str | None = None,
    ) -> None:
        self._function_name = function_name
        self._function_version = "$LATEST"
        self._invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        self._memory_limit_in_mb = memory_limit_in_mb
        self._aws_request_id = aws_request_id or str(uuid.uuid4())
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = f"local/{self._aws_request_id}"
        self.timeout_s = timeout_s
        self.started_at = time.monotonic()

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return max(0, int((self.started_at + self.timeout_s - time.monotonic()) * 1000))
