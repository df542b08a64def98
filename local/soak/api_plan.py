"""What the API load test sends: good requests, exact duplicates of them, and bad ones.

A good request unsubscribes its own address under its own Idempotency-Key, through the service's
route or the HubSpot facade. A duplicate repeats one exactly: half are queued right behind their
original (so another client sends them at the same time), half at the end. A bad request must be
refused with a 400 before anything is done.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import quote

DUPLICATE_SHARE = 0.2
BAD_SHARE = 0.2
BAD_REQUESTS = (
    ("POST", "/unsubscribe-all", "{not json"),
    ("POST", "/unsubscribe-all", '{"subscriberIdString": "not an address {n}@example.com"}'),
    ("POST", "/unsubscribe-all", '{"subscriberIdString": "sms-{n}@example.com", "channel": "SMS"}'),
    ("POST", "/unsubscribe-all", '{"subscriberIdString": "bu-{n}@example.com", "businessUnitId": -1}'),
    ("POST", "/communication-preferences/v4/statuses/facade-{n}%40example.com/unsubscribe-all", ""),
    ("GET", "/unsubscribe-all/bad%0D%0A{n}%40example.com", ""),
)


class RequestKind(StrEnum):
    GOOD = "good"
    DUPLICATE = "duplicate"
    BAD = "bad"


@dataclass(frozen=True)
class PlannedRequest:
    kind: RequestKind
    method: str
    path: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    key: str | None = None  # the Idempotency-Key of a good request and its duplicates
    address: str | None = None


def _good(run_id: str, number: int) -> PlannedRequest:
    address = f"api-{number}.{run_id}@example.com"
    key = f"api-{run_id}-{number}"
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    if number % 2:
        path = (
            f"/communication-preferences/v4/statuses/{quote(address, safe='')}/unsubscribe-all?channel=EMAIL"
        )
        return PlannedRequest(RequestKind.GOOD, "POST", path, "", headers, key, address)
    body = json.dumps({"subscriberIdString": address})
    return PlannedRequest(RequestKind.GOOD, "POST", "/unsubscribe-all", body, headers, key, address)


def _bad(number: int) -> PlannedRequest:
    method, path, body = BAD_REQUESTS[number % len(BAD_REQUESTS)]
    return PlannedRequest(
        RequestKind.BAD,
        method,
        path.replace("{n}", str(number)),
        body.replace("{n}", str(number)),
        {"Content-Type": "application/json"},
    )


def _duplicate(original: PlannedRequest) -> PlannedRequest:
    return PlannedRequest(
        RequestKind.DUPLICATE,
        original.method,
        original.path,
        original.body,
        original.headers,
        original.key,
        original.address,
    )


def plan_requests(total: int, run_id: str, seed: int) -> list[PlannedRequest]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible mix, not cryptography
    duplicates, bad = round(total * DUPLICATE_SHARE), round(total * BAD_SHARE)
    good = [_good(run_id, number) for number in range(total - duplicates - bad)]
    shuffled = good + [_bad(number) for number in range(bad)]
    rng.shuffle(shuffled)
    repeated = rng.sample(good, duplicates)
    together = {request.key for request in repeated[: duplicates // 2]}
    late = repeated[duplicates // 2 :]
    requests = []
    for request in shuffled:
        requests.append(request)
        if request.key in together:
            requests.append(_duplicate(request))
    return requests + [_duplicate(original) for original in late]
