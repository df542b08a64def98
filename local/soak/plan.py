"""What the soak sends: valid requests, duplicates of them, malformed bodies and invalid addresses.

Every valid request has its own identity and its own address (as HubSpot tells addresses apart:
two in five are not ASCII, in pairs only a fold would merge), so the sandbox's count of
successful unsubscribes per address is a count per identity. Most carry an idempotency key; a
few arrive as an SNS notification or an EventBridge event without one, and each of those is
delivered twice, as SNS and EventBridge redeliver (same body, same envelope id): the envelope's
id is their only identity. A duplicate repeats an original's body exactly: half right after it,
so they usually share a batch, half late, once the originals have had time to finish ("minutes
apart", scaled to the run). Each malformed or invalid message knows the reason the DLQ must
give for it. The mix is shuffled by a seed.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from enum import StrEnum

DUPLICATE_SHARE = 0.10
# Of the valid requests, one in ENVELOPE_EVERY comes without a key in an SNS envelope and the next
# in an EventBridge one; every one of them is among the duplicates.
ENVELOPE_EVERY = 50
MALFORMED_SHARE = 0.03
INVALID_EMAIL_SHARE = 0.02


class Kind(StrEnum):
    VALID = "valid"
    DUPLICATE = "duplicate"
    MALFORMED = "malformed"
    INVALID_EMAIL = "invalid email"


@dataclass(frozen=True)
class PlannedMessage:
    body: str
    kind: Kind
    address: str | None = None  # the subscriber of a valid message or a duplicate
    reason: str | None = None  # the DLQ reason a malformed or invalid message must get
    late: bool = False  # sent once the first wave has had time to finish
    enveloped: bool = False  # in an SNS or EventBridge envelope, without an idempotency key


# Body templates ({n} is the message's number) and the reason each must be parked with.
MALFORMED = (
    ('{{"subscriberIdString": "soak-malformed-{n}@example.com"', "MALFORMED_JSON"),
    ('["soak-malformed-{n}@example.com"]', "NOT_AN_OBJECT"),
    ('{{"email": {n}}}', "INVALID_FIELD"),
    ('{{"subscriberIdString": "soak-sms-{n}@example.com", "channel": "SMS"}}', "UNSUPPORTED_CHANNEL"),
    ('{{"note": "no subscriber {n}"}}', "MISSING_SUBSCRIBER"),
    (
        '{{"subscriberIdString": "a{n}@example.com", "subscriberIdString": "b{n}@example.com"}}',
        "DUPLICATE_KEY",
    ),
    ('{{"subscriberIdString": "soak-bu-{n}@example.com", "businessUnitId": -{n}}}', "INVALID_FIELD"),
)
INVALID_ADDRESSES = ("soak invalid {n}@example.com", "soak-{n}@@example.com", "soak-{n}@localhost")


# Two in five addresses are not ASCII, in pairs a case fold or a Unicode normalisation would merge
# (ß/ss, é composed/decomposed) but HubSpot's lower() keeps apart: each is its own subscriber.
UNICODE_LOCAL_PARTS = (
    "soak-straße-{pair}",
    "soak-strasse-{pair}",
    "soak-j\u00e9-{pair}",
    "soak-je\u0301-{pair}",
)
UNICODE_SHARE_OF_TEN = 4


def _address(run_id: str, number: int) -> str:
    slot = number % 10
    if slot >= UNICODE_SHARE_OF_TEN:
        return f"soak-{number}.{run_id}@example.com"
    local = UNICODE_LOCAL_PARTS[slot].format(pair=number // 10)
    domain = "bücher.example" if number % 20 < 10 else "example.de"
    return f"{local}.{run_id}@{domain}"


def _valid(run_id: str, number: int) -> PlannedMessage:
    address = _address(run_id, number)
    envelope_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"soak-{run_id}-{number}"))
    request: dict[str, object] = {"subscriberIdString": address}
    if number % ENVELOPE_EVERY == 0:
        body = json.dumps({"Type": "Notification", "MessageId": envelope_id, "Message": json.dumps(request)})
    elif number % ENVELOPE_EVERY == 1:
        body = json.dumps(
            {"version": "0", "id": envelope_id, "detail-type": "OptOut", "source": "soak", "detail": request}
        )
    else:
        body = json.dumps({**request, "idempotencyKey": f"soak-{run_id}-{number}"})
    return PlannedMessage(body, Kind.VALID, address=address, enveloped=number % ENVELOPE_EVERY < 2)


def plan_messages(total: int, run_id: str, seed: int) -> list[PlannedMessage]:
    """`total` messages in the order to send them: the first wave, then the late duplicates."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible mix, not cryptography
    malformed, invalid = round(total * MALFORMED_SHARE), round(total * INVALID_EMAIL_SHARE)
    duplicates = round(total * DUPLICATE_SHARE)
    originals = [_valid(run_id, number) for number in range(total - malformed - invalid - duplicates)]
    bad = [
        PlannedMessage(template.format(n=n), Kind.MALFORMED, reason=reason)
        for n, (template, reason) in ((n, MALFORMED[n % len(MALFORMED)]) for n in range(malformed))
    ] + [
        PlannedMessage(
            json.dumps({"subscriberIdString": INVALID_ADDRESSES[n % len(INVALID_ADDRESSES)].format(n=n)}),
            Kind.INVALID_EMAIL,
            reason="INVALID_EMAIL",
        )
        for n in range(invalid)
    ]
    shuffled: list[PlannedMessage] = originals + bad
    rng.shuffle(shuffled)
    enveloped = [message for message in originals if message.enveloped]
    keyed = [message for message in originals if not message.enveloped]
    repeated = enveloped + rng.sample(keyed, max(0, duplicates - len(enveloped)))
    rng.shuffle(repeated)
    together, late = set(repeated[: duplicates // 2]), repeated[duplicates // 2 :]
    first_wave = []
    for message in shuffled:
        first_wave.append(message)
        if message in together:
            first_wave.append(_duplicate(message, late=False))
    return first_wave + [_duplicate(original, late=True) for original in late]


def _duplicate(original: PlannedMessage, *, late: bool) -> PlannedMessage:
    return PlannedMessage(original.body, Kind.DUPLICATE, address=original.address, late=late)
