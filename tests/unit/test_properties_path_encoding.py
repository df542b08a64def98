"""Path encoding, for any string: refused before any HTTP call, or received by HubSpot as exactly that string.

The real client talks to the HubSpot sandbox over a socket, and the sandbox's call log shows the
raw request target: the subscriber must be one path segment that decodes to the very string the
producer sent, with nothing of it spilling into other segments or the query.
"""

from __future__ import annotations

import contextlib
import json
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from local.hubspot_sandbox import HubSpotSandbox
from optout.domain.request import InvalidRequestError
from optout.hubspot.client import HubSpotClient
from optout.hubspot.errors import HubSpotError
from optout.triggers.message_body import parse_message_body

EXAMPLES = settings(max_examples=150, deadline=None)
# Characters that break paths, queries, headers or decoders when mishandled.
TRICKY = "/?#%&=+;:@.\\ \t\r\n\x00'\"<>[]{}|^`~é用\u200b\ufffd"
TRICKY_ADDRESSES = st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.text(alphabet=TRICKY + "abc", min_size=1, max_size=20),
    st.sampled_from(["example.com", "bücher.example", "例子.广告", "x.y", "example.com/..", "a?b.com"]),
)
ANY_SUBSCRIBER = st.one_of(st.text(max_size=60), st.emails(), TRICKY_ADDRESSES)
# The parts of /communication-preferences/v4/statuses/{subscriber}/unsubscribe-all around the subscriber.
PATH_BEFORE = ["", "communication-preferences", "v4", "statuses"]


@EXAMPLES
@given(subscriber=ANY_SUBSCRIBER)
def test_a_subscriber_is_refused_before_any_call_or_reaches_hubspot_exactly(
    busy_sandbox: HubSpotSandbox, busy_client: HubSpotClient, subscriber: str
) -> None:
    # Given a message naming any string as its subscriber
    calls_before = len(busy_sandbox.calls())
    try:
        request = parse_message_body(json.dumps({"subscriberIdString": subscriber}))
    except InvalidRequestError:
        # Then either it is refused before anything is sent
        assert len(busy_sandbox.calls()) == calls_before
        return

    # Or, when the busy_client unsubscribes it (whatever HubSpot answers)
    with contextlib.suppress(HubSpotError):
        busy_client.unsubscribe_all(request.subscriber)

    # It made exactly one call, whose one subscriber segment decodes to exactly that string
    [call] = busy_sandbox.calls()[calls_before:]
    segments = call.request.raw_path.split("/")
    assert segments[: len(PATH_BEFORE)] == PATH_BEFORE
    assert segments[len(PATH_BEFORE) + 1 :] == ["unsubscribe-all"]
    assert unquote(segments[len(PATH_BEFORE)], errors="strict") == subscriber
    assert call.request.query == "channel=EMAIL&verbose=true"
    assert call.request.subscriber == subscriber


@EXAMPLES
@given(subscribers=st.lists(ANY_SUBSCRIBER, min_size=1, max_size=5))
def test_batch_inputs_reach_hubspot_exactly(
    busy_sandbox: HubSpotSandbox, busy_client: HubSpotClient, subscribers: list[str]
) -> None:
    # Given the accepted ones of some subscribers, distinct as HubSpot compares them
    valid: dict[str, str] = {}
    for subscriber in subscribers:
        try:
            request = parse_message_body(json.dumps({"subscriberIdString": subscriber}))
        except InvalidRequestError:
            continue
        valid.setdefault(request.subscriber.casefold(), request.subscriber)
    calls_before = len(busy_sandbox.calls())

    # When the busy_client sends them in one batch
    answer = busy_client.unsubscribe_all_batch(list(valid.values()))

    # Then the batch call carried exactly those strings, and each has an outcome
    new_calls = busy_sandbox.calls()[calls_before:]
    if not valid:
        assert new_calls == []
        return
    assert new_calls[0].request.inputs == tuple(valid.values())
    assert set(answer) == set(valid.values())
