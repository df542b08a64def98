"""The call log: every API request the sandbox answered (or hung up on), in order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.hubspot_sandbox.clock import iso_utc, utc_now


@dataclass(frozen=True, slots=True)
class RequestSummary:
    """What a request was, as received; never its token."""

    method: str
    raw_path: str
    query: str
    operation: str | None
    subscriber: str | None  # decoded from the path
    inputs: tuple[str, ...] | None  # a batch call's inputs
    business_unit_id: int | None


@dataclass(frozen=True, slots=True)
class CallRecord:
    seq: int
    at: str
    status: int | None  # None when the connection was closed without an answer
    fault: str | None
    request: RequestSummary

    def as_json(self) -> dict[str, Any]:
        request = self.request
        return {
            "seq": self.seq,
            "method": request.method,
            "rawPath": request.raw_path,
            "query": request.query,
            "operation": request.operation,
            "status": self.status,
            "fault": self.fault,
            "inputs": None if request.inputs is None else list(request.inputs),
            "subscriber": request.subscriber,
            "businessUnitId": request.business_unit_id,
            "at": self.at,
        }


class CallLog:
    def __init__(self) -> None:
        self._records: list[CallRecord] = []

    def __len__(self) -> int:
        return len(self._records)

    def append(self, request: RequestSummary, status: int | None, fault: str | None) -> None:
        self._records.append(CallRecord(len(self._records) + 1, iso_utc(utc_now()), status, fault, request))

    def records(self) -> list[CallRecord]:
        return list(self._records)
