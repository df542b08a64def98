"""What goes wrong in a soak, and when: HubSpot faults and quirks, a token rotation, store outages, cut-offs.

Times are seconds from the start of sending, scaled with the run's size (a small run squeezes
the same events into less time). The sandbox injects faults at the issue's rates throughout,
and first one of each kind in turn, so even a short run meets them all; its quirks (what HubSpot
was seen to do beyond its documents) are switched on one after the other while messages flow.
The idempotency store goes down twice: once refusing connections, once accepting them and never
answering (the slow-store form, which only the function's own timeouts and deadlines end).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from local.aws.resources import QUEUE, QueueOverrides, TemplateReader
from local.hubspot_sandbox import ALL_SCOPES, HubSpotSandbox
from local.hubspot_sandbox.quirks import Quirk
from local.lifecycle import StartStop
from local.soak.tcp_proxy import TcpProxy

# Per HubSpot call: 5 % rolling-window 429s, 1 % 423, 3 % 5xx, 1 % timeouts, 1 % dropped connections.
FAULT_RATES = {
    "429": 0.05,
    "423": 0.01,
    "500": 0.0075,
    "502": 0.0075,
    "503": 0.0075,
    "504": 0.0075,
    "timeout": 0.01,
    "drop": 0.01,
}
EVERY_FAULT_ONCE = ["timeout", "429", "drop", "423", "500", "502", "503", "504"]
# A hung call outlasts the client's read timeout (10 s), so it is a real timeout, not a late close.
TIMEOUT_HANG_S = 12.0
FULL_SIZE = 5000
POLL_S = 0.05


@dataclass(frozen=True)
class Timings:
    """When things happen; see `for_messages`."""

    rotate_token_at_s: float
    outage_at_s: float
    outage_s: float
    hang_at_s: float
    hang_s: float
    late_duplicates_at_s: float
    quirks_from_s: float  # each quirk is on alone for quirk_s, one after the other, from then
    quirk_s: float
    # The template's 180 s (6 x the function's 30 s) would make every retry wait 3 minutes; with a
    # shorter timeout, maxReceiveCount grows to keep the template's time before the DLQ.
    visibility_timeout_s: int
    max_receive_count: int
    template_visibility_timeout_s: int
    template_max_receive_count: int
    cut_off_every: int = 5  # every 5th invocation, from the first, overruns its timeout...
    cut_off_after_s: float = 0.5  # ...this long after it started, mid-batch

    @classmethod
    def for_messages(cls, messages: int) -> Timings:
        """The full-size run's times (5,000 messages), scaled down to a quarter for smaller runs."""
        scale = min(1.0, max(0.25, messages / FULL_SIZE))
        reader = TemplateReader.from_file()
        queue = reader.properties(QUEUE)
        template_visibility = int(reader.value(queue["VisibilityTimeout"]))
        template_receives = int(reader.value(queue["RedrivePolicy"]["maxReceiveCount"]))
        visibility = max(10, round(30 * scale))
        return cls(
            rotate_token_at_s=5.0 * scale,
            outage_at_s=10.0 * scale,
            outage_s=10.0 * scale,
            hang_at_s=30.0 * scale,
            hang_s=10.0 * scale,
            late_duplicates_at_s=40.0 * scale,
            quirks_from_s=15.0 * scale,
            quirk_s=8.0 * scale,
            visibility_timeout_s=visibility,
            max_receive_count=math.ceil(template_receives * template_visibility / visibility),
            template_visibility_timeout_s=template_visibility,
            template_max_receive_count=template_receives,
        )

    def queue_overrides(self) -> QueueOverrides:
        return QueueOverrides(self.visibility_timeout_s, self.max_receive_count)

    def cut_off(self, invocation: int) -> float | None:
        """The runner's timeout hook: chosen invocations are given up mid-batch.

        The first is always chosen: it carries a full batch and the cold start, so it surely
        overruns; a later one may carry a remnant that ends before it can be cut off.
        """
        return self.cut_off_after_s if (invocation - 1) % self.cut_off_every == 0 else None


@dataclass
class ChaosLog:
    """What happened when (seconds from the start), for the report."""

    events: list[tuple[float, str]] = field(default_factory=list)


class Chaos(StartStop):
    """Runs the token rotation and the store outage on their schedules, each on a thread of its own.

    The token is rotated once the function holds it (after HubSpot's first answer), so that the
    old one is refused at least once; each outage starts while the function has a connection open
    to the store, so that it meets at least one, and lasts its full time from then.
    """

    def __init__(
        self,
        timings: Timings,
        sandbox: HubSpotSandbox,
        rotate_secret: Callable[[str], None],
        proxy: TcpProxy,
        old_token: str,
    ) -> None:
        self._timings = timings
        self._sandbox = sandbox
        self._rotate_secret = rotate_secret
        self._proxy = proxy
        self._old_token = old_token
        self.new_token = f"rotated-{time.time_ns():x}"
        self.log = ChaosLog()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._rotate_token, name="soak-token-rotation", daemon=True),
            threading.Thread(target=self._store_outages, name="soak-store-outages", daemon=True),
            threading.Thread(target=self._quirks_in_turn, name="soak-quirks", daemon=True),
        ]
        self._started_at = 0.0

    def start(self) -> None:
        self._sandbox.configure(fault_rates=FAULT_RATES, timeout_hang_s=TIMEOUT_HANG_S, fault_retry_after_s=1)
        self._sandbox.script_faults(EVERY_FAULT_ONCE)
        self._started_at = time.monotonic()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join()
        self._proxy.serve()

    def _note(self, what: str) -> None:
        self.log.events.append((time.monotonic() - self._started_at, what))

    def _at(self, seconds: float) -> bool:
        """Waits until `seconds` after the start; False if the soak stopped first."""
        return not self._stopping.wait(max(0.0, self._started_at + seconds - time.monotonic()))

    def _hubspot_has_answered(self) -> bool:
        """Waits for a first answer from HubSpot (so the function holds the token); False if stopped."""
        while not any(call.status == 200 for call in self._sandbox.calls()):
            if self._stopping.wait(POLL_S):
                return False
        return True

    def _rotate_token(self) -> None:
        if not (self._at(self._timings.rotate_token_at_s) and self._hubspot_has_answered()):
            return
        self._rotate_secret(json.dumps({"token": self.new_token}))
        self._sandbox.add_token(self.new_token, ALL_SCOPES)
        self._sandbox.revoke_token(self._old_token)
        self._note("token rotated: the secret holds a new token, HubSpot refuses the old one")

    def _store_in_use(self) -> bool:
        """Waits until the function has a connection open to the store; False if stopped."""
        while not self._proxy.in_use:
            if self._stopping.wait(POLL_S / 10):
                return False
        return True

    def _store_outages(self) -> None:
        if not (self._at(self._timings.outage_at_s) and self._store_in_use()):
            return
        self._proxy.refuse()
        self._note("idempotency store down: DynamoDB connections refused")
        self._stopping.wait(self._timings.outage_s)
        self._proxy.serve()
        self._note(f"idempotency store back ({self._proxy.refused} connections refused)")
        if not (self._at(self._timings.hang_at_s) and self._store_in_use()):
            return
        self._proxy.hang()
        self._note("idempotency store hangs: DynamoDB connections accepted, never answered")
        self._stopping.wait(self._timings.hang_s)
        self._proxy.serve()
        self._note(f"idempotency store answers again ({self._proxy.held} connections held unanswered)")

    def _quirks_in_turn(self) -> None:
        for number, quirk in enumerate(Quirk):
            if not self._at(self._timings.quirks_from_s + number * self._timings.quirk_s):
                return
            self._sandbox.configure(quirks=[quirk.value])
            self._note(f"HubSpot quirk on: {quirk.value}")
        if self._at(self._timings.quirks_from_s + len(Quirk) * self._timings.quirk_s):
            self._sandbox.configure(quirks=[])
            self._note("HubSpot quirks off: answers as documented")
