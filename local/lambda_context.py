"""The context object Lambda passes a handler, with remaining time that really runs down."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from local.moto_endpoint import ACCOUNT_ID, REGION


@dataclass
class LocalLambdaContext:
    function_name: str = "hubspot-unsubscribe-all-local"
    memory_limit_in_mb: int = 256
    timeout_s: float = 30.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started_at: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started_at + self.timeout_s - time.monotonic()) * 1000))
