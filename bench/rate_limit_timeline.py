"""What each invocation did at the rate limit, and why there were moments with no HubSpot call at all.

From three records of one run: each poller's invocations (start, end, the subscribers it was
given, how many records it left for a retry), the sandbox's call log (a call is in flight for
the sandbox's latency before it is logged) and the AWS calls made meanwhile. Every moment of the
measured span with no HubSpot call in flight is put down to one cause, to the nearest
`RESOLUTION_S`: the window already holding what the function may use of it (the pacer waits,
as it should), or what each poller was doing: between invocations, before its invocation's first
HubSpot call (claiming its records in the store), between its calls, or after its last one
(recording the successes); with the share of that time a store call was in flight.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.aws_calls import AwsCall
from bench.report import markdown_rows

RESOLUTION_S = 0.005
# Invocations shown in the printed timeline; the JSON holds them all.
SHOWN_INVOCATIONS = 12


@dataclass(frozen=True)
class Invocation:
    poller: int
    number: int
    started: float  # time.time()
    ended: float
    subscribers: frozenset[str]
    retried: int  # records reported back for a retry


@dataclass(frozen=True)
class HubSpotCall:
    started: float
    ended: float
    subscriber: str | None
    status: int | None


@dataclass(frozen=True)
class Span:
    start: float
    end: float


@dataclass(frozen=True)
class Limits:
    limit: int
    window_s: float
    # The pacer stops starting calls once this many are in the window (the rest is kept in reserve).
    paced_at: int


def _calls_of(invocation: Invocation, calls: Sequence[HubSpotCall]) -> list[HubSpotCall]:
    return [call for call in calls if call.subscriber in invocation.subscribers]


def _rounded_difference(later: float | None, earlier: float | None) -> float | None:
    return None if later is None or earlier is None else round(later - earlier, 2)


def invocation_rows(
    invocations: Sequence[Invocation], calls: Sequence[HubSpotCall], span: Span
) -> list[dict[str, Any]]:
    """One row per invocation that overlaps the span, in the order they started."""
    rows = []
    for invocation in sorted(invocations, key=lambda invocation: invocation.started):
        if invocation.ended < span.start or invocation.started > span.end:
            continue
        own = _calls_of(invocation, calls)
        first_call = min((call.started for call in own), default=None)
        last_call_ended = max((call.ended for call in own), default=None)
        rows.append(
            {
                "poller": invocation.poller,
                "invocation": invocation.number,
                "start_s": round(invocation.started - span.start, 2),
                "duration_s": round(invocation.ended - invocation.started, 2),
                "records": len(invocation.subscribers),
                "hubspot_calls": sum(1 for call in own if call.status != 429),
                "rejected_429": sum(1 for call in own if call.status == 429),
                "records_retried": invocation.retried,
                "first_call_after_s": _rounded_difference(first_call, invocation.started),
                "after_last_call_s": _rounded_difference(invocation.ended, last_call_ended),
            }
        )
    return rows


@dataclass(frozen=True)
class _Phases:
    """An invocation's times: its start, its first call's start, its last call's end, its end."""

    poller: int
    started: float
    first_call: float | None
    last_call_ended: float | None
    ended: float

    def at(self, moment: float) -> str:
        if self.first_call is None or self.last_call_ended is None or moment < self.first_call:
            return "before its first call"
        return "after its last call" if moment >= self.last_call_ended else "between its calls"


def _merged(intervals: Sequence[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Overlapping intervals joined: their starts and ends, sorted."""
    starts: list[float] = []
    ends: list[float] = []
    for start, end in sorted(intervals):
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _covered(merged: tuple[list[float], list[float]], moment: float) -> bool:
    starts, ends = merged
    index = bisect.bisect_right(starts, moment) - 1
    return index >= 0 and moment < ends[index]


def quiet_moments(
    invocations: Sequence[Invocation],
    calls: Sequence[HubSpotCall],
    aws_calls: Sequence[AwsCall],
    span: Span,
    limits: Limits,
) -> list[dict[str, Any]]:
    """The span's moments without a HubSpot call in flight, by cause, longest first."""
    admitted = sorted(call.ended for call in calls if call.status != 429)
    in_flight = _merged([(call.started, call.ended) for call in calls])
    store = _merged([(call.started, call.ended) for call in aws_calls if call.service == "dynamodb"])
    phases = []
    for invocation in invocations:
        own = _calls_of(invocation, calls)
        phases.append(
            _Phases(
                invocation.poller,
                invocation.started,
                min((call.started for call in own), default=None),
                max((call.ended for call in own), default=None),
                invocation.ended,
            )
        )
    pollers = sorted({invocation.poller for invocation in invocations})
    paced = f"the window holds the function's part (at least {limits.paced_at} of {limits.limit}): pacing"
    seconds: dict[str, float] = {}
    with_store: dict[str, float] = {}
    for step in range(int((span.end - span.start) / RESOLUTION_S)):
        moment = span.start + (step + 0.5) * RESOLUTION_S
        if _covered(in_flight, moment):
            continue
        in_window = bisect.bisect_right(admitted, moment) - bisect.bisect_right(
            admitted, moment - limits.window_s
        )
        if in_window >= limits.paced_at:
            cause = paced
        else:
            doing = {
                phase.poller: phase.at(moment) for phase in phases if phase.started <= moment < phase.ended
            }
            cause = "; ".join(f"poller {p} {doing.get(p, 'between invocations')}" for p in pollers)
        seconds[cause] = seconds.get(cause, 0.0) + RESOLUTION_S
        if _covered(store, moment):
            with_store[cause] = with_store.get(cause, 0.0) + RESOLUTION_S
    total = span.end - span.start
    return [
        {
            "cause": cause,
            "seconds": round(time_s, 2),
            "share_of_span": round(time_s / total, 4),
            "store_call_in_flight_share": round(with_store.get(cause, 0.0) / time_s, 2),
        }
        for cause, time_s in sorted(seconds.items(), key=lambda item: -item[1])
    ]


def store_latency_ms(aws_calls: Sequence[AwsCall], span: Span) -> dict[str, Any]:
    """The store's calls in the span: how many, and how long they took."""
    durations = sorted(
        (call.ended - call.started) * 1000
        for call in aws_calls
        if call.service == "dynamodb" and span.start <= call.started < span.end
    )
    if not durations:
        return {"calls": 0}
    return {
        "calls": len(durations),
        "by_operation": dict(
            Counter(
                call.operation
                for call in aws_calls
                if call.service == "dynamodb" and span.start <= call.started < span.end
            )
        ),
        "median_ms": round(durations[len(durations) // 2], 1),
        "p90_ms": round(durations[int(len(durations) * 0.9)], 1),
    }


def _cell(value: Any) -> str:
    return "—" if value is None else str(value)


def markdown(rows: Sequence[dict[str, Any]], quiet: Sequence[dict[str, Any]]) -> str:
    """The first invocations of the span, then the quiet moments by cause."""
    columns = (
        "poller",
        "invocation",
        "start_s",
        "duration_s",
        "records",
        "hubspot_calls",
        "rejected_429",
        "records_retried",
        "first_call_after_s",
        "after_last_call_s",
    )
    shown = rows[:SHOWN_INVOCATIONS]
    text = f"Invocations in the measured span (the first {len(shown)} of {len(rows)}; all in the JSON):\n\n"
    text += markdown_rows(columns, [[_cell(row[name]) for name in columns] for row in shown])
    text += "\nMoments with no HubSpot call in flight, by cause:\n\n"
    text += markdown_rows(
        ("cause", "seconds", "share of the span", "with a store call in flight"),
        [
            [
                moment["cause"],
                f"{moment['seconds']:.2f}",
                f"{moment['share_of_span']:.1%}",
                f"{moment['store_call_in_flight_share']:.0%}",
            ]
            for moment in quiet
        ],
    )
    return text
