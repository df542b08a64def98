"""`make run`'s one-click step: a link minted over the API, its page opened, then clicked twice.

As a producer and a mailbox provider would: `POST /one-click-links`, then `GET` the link (a
person, or a link scanner: nothing may change), then RFC 8058's `POST` twice (the provider's
multipart one, then the page's form-encoded button). What became of it is read from the
evidence: the queue's depth and HubSpot's call log after the GET, and HubSpot's successful
unsubscribes of the address once the queue has drained (exactly one).
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.error import HTTPError

from local.stack import LocalStack
from optout.masking import mask_email

ADDRESS = "lee.oneclick@example.com"
BOUNDARY = "demo-one-click-boundary"
MULTIPART_BODY = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
    f"One-Click\r\n--{BOUNDARY}--\r\n"
)
HTTP_TIMEOUT_S = 30


@dataclass
class OneClickDemo:
    url: str = ""
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    settled: bool = False

    @property
    def ok(self) -> bool:
        return self.settled and not self.problems


def _request(
    url: str, method: str, body: bytes | None = None, content_type: str | None = None
) -> tuple[int, str]:
    headers = {"Content-Type": content_type} if content_type else {}
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 - the loopback API
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310 - the loopback API
            return response.status, response.read().decode("utf-8", errors="replace")
    except HTTPError as error:
        return error.code, error.read().decode("utf-8", errors="replace")


def _queue_depth(stack: LocalStack) -> int:
    attributes = stack.session.client("sqs").get_queue_attributes(
        QueueUrl=stack.resources.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def run_one_click(stack: LocalStack, deadline: float) -> OneClickDemo:
    sandbox = stack.sandbox
    if sandbox is None:
        raise RuntimeError("the demo needs the HubSpot sandbox (unset HUBSPOT_TOKEN)")
    demo = OneClickDemo()
    masked = mask_email(ADDRESS)
    before = sandbox.successful_unsubscribes().get(ADDRESS.lower(), 0)

    inputs = json.dumps({"inputs": [{"subscriberIdString": ADDRESS}]}).encode()
    status, text = _request(f"{stack.api.url}/one-click-links", "POST", inputs, "application/json")
    if status != 200:
        demo.problems.append(f"minting answered {status}")
        return demo
    demo.url = json.loads(text)["results"][0]["url"]
    if ADDRESS.partition("@")[0] in demo.url.lower():
        demo.problems.append("the link holds the address")
    demo.lines.append(f"  minted for {masked}: {demo.url[:60]}... (no form of the address in it)")

    calls_before = len(sandbox.calls())
    status, page = _request(demo.url, "GET")
    changed = _queue_depth(stack) or len(sandbox.calls()) - calls_before
    named = f"names {masked}" if masked in page else "does not name the masked address"
    effect = "CHANGED SOMETHING" if changed else "nothing queued, HubSpot not called"
    demo.lines.append(f"  {'GET, a person or a link scanner':<36}{status}, {named}; {effect}")
    if status != 200 or masked not in page or changed:
        demo.problems.append("the page")

    clicks = (
        (
            "POST, the mail client's one click",
            MULTIPART_BODY.encode(),
            f"multipart/form-data; boundary={BOUNDARY}",
        ),
        ("POST again, the page's button", b"List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"),
    )
    for label, body, content_type in clicks:
        status, _ = _request(demo.url, "POST", body, content_type)
        demo.lines.append(f"  {label:<36}{status}" + (", opt-out queued" if status == 200 else ""))
        if status != 200:
            demo.problems.append(label)

    demo.settled = stack.event_source.wait_until_drained(max(0.0, deadline - time.monotonic()))
    done = sandbox.successful_unsubscribes().get(ADDRESS.lower(), 0) - before
    demo.lines.append(f"  HubSpot: {masked} unsubscribed {done} time(s) for the two clicks")
    if done != 1:
        demo.problems.append(f"HubSpot unsubscribed the address {done} times")
    return demo
