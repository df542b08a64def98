"""AWS that accepts connections and never answers: every call ends by the invocation's deadline.

Each test points one of the function's services (through the standard AWS_ENDPOINT_URL_<SERVICE>)
at a proxy to moto that has stopped answering, as an overloaded or half-down service does, and
gives the invocation a few seconds: it must answer before Lambda would kill it, with every record
it could not settle left for a retry, never timing the whole batch out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest

from local.aws.moto_endpoint import MotoEndpoint
from local.runners.lambda_context import LocalLambdaContext
from local.soak.tcp_proxy import TcpProxy
from optout.aws.clients import AwsClients
from optout.aws.idempotency_store import Claim, DynamoDBIdempotencyStore, Fresh
from optout.deadline import Deadline
from optout.outcomes import Change, Unsubscribed
from tests.conftest import FunctionStack
from tests.integration.function_harness import dead_letters, failed_ids, invoke, receive_event, send

# Long enough for the function's margins (3 s kept back to answer) and, on a busy machine, for the
# cold runtime to be built before the first store call (an attempt that could not end by the
# deadline is not started), short enough that botocore's defaults (5 s read timeout, 3 attempts)
# would overrun it several times over.
INVOCATION_TIMEOUT_S = 8.0

Hang = Callable[[str], TcpProxy]


@pytest.fixture
def hang(moto_endpoint: MotoEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hang]:
    """`hang("SQS")`: the function's clients of that service, built from now on, reach a proxy to
    moto that accepts connections and never answers."""
    moto = urlsplit(moto_endpoint.url)
    proxies: list[TcpProxy] = []

    def start(service: str) -> TcpProxy:
        proxy = TcpProxy(moto.hostname or "127.0.0.1", moto.port or 80)
        proxy.start()
        proxy.hang()
        proxies.append(proxy)
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", proxy.url)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()


def invoke_with_little_time(event: dict[str, object]) -> tuple[set[str], LocalLambdaContext]:
    context = LocalLambdaContext(timeout_s=INVOCATION_TIMEOUT_S)
    return failed_ids(invoke(event, context)), context


def test_a_store_that_never_answers_leaves_the_records_for_retry_before_the_timeout(
    function_stack: FunctionStack, hang: Hang
) -> None:
    # Given messages, and an idempotency store that accepts connections and never answers
    ids = send(function_stack, [{"subscriberIdString": f"u{n}@example.com"} for n in range(3)])
    event = receive_event(function_stack, 3)
    store = hang("DYNAMODB")

    # When the batch is handled with a few seconds to go
    retried, context = invoke_with_little_time(event)

    # Then the function answered in time: every record is left for retry, HubSpot was not called
    assert retried == set(ids)
    assert context.get_remaining_time_in_millis() > 0
    assert store.held > 0
    assert function_stack.hubspot.calls() == []


def test_a_dead_letter_queue_that_never_answers_leaves_the_bad_message_for_retry_in_time(
    function_stack: FunctionStack, hang: Hang, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a malformed message beside a good one, and an SQS that has stopped answering the function
    ids = send(function_stack, ["{not json", {"subscriberIdString": "good@example.com"}])
    event = receive_event(function_stack, 2)
    sqs = hang("SQS")

    # When the batch is handled with a few seconds to go
    retried, context = invoke_with_little_time(event)
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS")

    # Then it answered in time: the good one is done, the one it could not park left for retry
    assert retried == {ids[0]}
    assert context.get_remaining_time_in_millis() > 0
    assert sqs.held > 0
    assert set(function_stack.hubspot.successful_unsubscribes()) == {"good@example.com"}
    assert dead_letters(function_stack) == []


def test_a_secrets_manager_that_never_answers_holds_no_hubspot_call_past_the_deadline(
    function_stack: FunctionStack, hang: Hang, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given single calls on several threads, all needing the token, and a Secrets Manager that
    # accepts connections and never answers
    monkeypatch.setenv("HUBSPOT_BATCH_MODE", "off")
    ids = send(function_stack, [{"subscriberIdString": f"u{n}@example.com"} for n in range(4)])
    event = receive_event(function_stack, 4)
    hang("SECRETS_MANAGER")

    # When the batch is handled with a few seconds to go
    retried, context = invoke_with_little_time(event)

    # Then no thread waited for the token past the deadline: every record is left for retry, in time
    assert retried == set(ids)
    assert context.get_remaining_time_in_millis() > 0
    assert function_stack.hubspot.calls() == []


def test_a_success_the_store_stops_answering_is_not_recorded_past_the_deadline(
    function_stack: FunctionStack, moto_endpoint: MotoEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a store that answers the claim, then stops answering while the work runs
    moto = urlsplit(moto_endpoint.url)
    with TcpProxy(moto.hostname or "127.0.0.1", moto.port or 80) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.url)
        aws = AwsClients()
        store = DynamoDBIdempotencyStore(function_stack.resources.table_name, 3600, aws.dynamodb, aws.budget)
        store.register_lambda_context(LocalLambdaContext(timeout_s=3.0))  # as the handler does
        done = Unsubscribed("jane@example.com", Change.UNSUBSCRIBED)
        # The client built and its connection open before the clock starts, as after a first
        # invocation: on a busy machine, building it takes more of 3 s than an attempt may wait
        warm = store.once(Claim("key:k-warm", "f"), lambda _: done, Deadline.after(INVOCATION_TIMEOUT_S))
        assert warm == Fresh(done, recorded=True)

        def work(after_lost_attempt: bool) -> Unsubscribed:
            proxy.hang()
            return done

        # When the work succeeds with 3 s to go: the success cannot be written, and the late
        # record of it must start only while an attempt can still end before the deadline
        started = time.monotonic()
        deadline = Deadline.after(3.0)
        answer = store.once(Claim("key:k-late", "f"), work, deadline)

        # Then the success is answered unrecorded, by the deadline
        assert answer == Fresh(done, recorded=False)
        assert time.monotonic() - started < 3.0
