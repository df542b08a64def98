"""The soak, small: a few hundred messages through the local stack with every kind of fault.

`make soak` runs the full size (5,000 messages); this is the same run, scaled down, in the suite.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from local.aws.moto_endpoint import MotoEndpoint
from local.hubspot_sandbox.quirks import Quirk
from local.runners.sqs_batch import sqs_event
from local.soak import __main__ as soak_cli
from local.soak.chaos import FAULT_RATES, Timings
from local.soak.clicks import ClickResults, PlannedLink, Tampering
from local.soak.evidence import Evidence, Letter
from local.soak.leaks import Leak
from local.soak.plan import Kind, plan_messages
from local.soak.queue_soak import SoakRun, run_queue_soak
from local.soak.tcp_proxy import TcpProxy
from local.soak.verdict import Verdict, judge, judge_clicks
from tests.conftest import FunctionStack
from tests.integration.function_harness import dead_letters, failed_ids, invoke, receive_event, send

MESSAGES = 300
CONTENDERS = 8
DRAIN_TIMEOUT_S = 240.0


@pytest.mark.slow
def test_a_small_soak_loses_nothing_does_nothing_twice_and_leaks_nothing() -> None:
    # Given 300 messages (duplicates, malformed, invalid, envelopes delivered twice, two in five
    # addresses not ASCII) and every fault: HubSpot's 429, 423, 5xx, timeouts and drops, each of
    # its quirks in turn, a token rotation, an idempotency store that refuses connections and
    # later one that never answers them, invocations cut off
    # When they go through the local stack until the queue drains
    run = run_queue_soak(MESSAGES, seed=7, drain_timeout_s=DRAIN_TIMEOUT_S)

    # Then every kind of trouble really happened (a soak that met none would prove nothing)
    assert run.evidence is not None
    assert set(run.evidence.faults) >= set(FAULT_RATES) | {"401 (not injected)"}
    events = {what.split(" (")[0].split(":")[0] for _, what in run.chaos.events}
    assert events == {
        "idempotency store answers again",
        "idempotency store back",
        "idempotency store down",
        "idempotency store hangs",
        "token rotated",
        "HubSpot quirk on",
        "HubSpot quirks off",
    }
    quirks_on = {what.split(": ")[1] for _, what in run.chaos.events if what.startswith("HubSpot quirk on")}
    assert quirks_on == {quirk.value for quirk in Quirk}
    assert not any("(0 connections" in what for _, what in run.chaos.events)
    assert sum(message.enveloped for message in run.planned) >= 2
    assert run.stats.timeouts >= 1

    # And one-click links were clicked among the messages: some more than once, some late, and a
    # tampered token of each kind
    assert run.clicks is not None
    genuine = [link for link in run.links if link.tampering is None]
    tampered = [link for link in run.links if link.tampering is not None]
    assert any(link.clicks > 1 for link in genuine)
    assert any(link.late for link in genuine)
    assert {link.tampering for link in tampered} == set(Tampering)
    clicks = sum(link.clicks for link in genuine) + len(tampered)

    # And nothing was lost, done twice or leaked, and the final line says so
    assert run.verdict.problems == []
    kinds = Counter(message.kind for message in run.planned)
    parked = kinds[Kind.MALFORMED] + kinds[Kind.INVALID_EMAIL]
    unsubscribed = MESSAGES - parked + len(genuine)
    assert run.verdict.final_line() == (
        f"soak: {MESSAGES} sent and {len(genuine)} links clicked {clicks} times ({len(tampered)} tampered"
        f" clicks refused), {unsubscribed} unsubscribed, {parked} dead-lettered, 0 lost, 0 duplicated"
    )


def test_the_verdict_counts_losses_duplicates_wrong_reasons_and_leaks() -> None:
    # Given the evidence of a run where one valid message was never settled, one address was
    # unsubscribed twice, one malformed message got the wrong reason and a token leaked
    planned = [message for message in plan_messages(40, "t", seed=3) if not message.late]
    ids = [f"m-{n}" for n in range(len(planned))]
    valid = [n for n, message in enumerate(planned) if message.kind is Kind.VALID]
    bad = [n for n, message in enumerate(planned) if message.reason is not None]
    letters = [
        Letter(f"dlq-{n}", planned[n].body, {"sourceMessageId": ids[n], "reason": planned[n].reason or ""})
        for n in bad
    ]
    letters[0] = Letter(
        letters[0].message_id, letters[0].body, {"sourceMessageId": ids[bad[0]], "reason": "X"}
    )
    addresses = [message.address.lower() for message in planned if message.address is not None]
    evidence = Evidence(
        opted_out=frozenset(addresses),
        successful_unsubscribes={address: 2 if address == addresses[1] else 1 for address in addresses},
        letters=letters,
        acknowledged=frozenset(ids) - {ids[valid[0]]},
        queue_depth=1,
        idempotency_records=[],
        faults=Counter(),
    )

    # When it is judged
    verdict = judge(planned, ids, evidence, [Leak("function logs", "token", "pat-***")])

    # Then each shows up, in the counts and as a problem, and the message counts still add up
    assert verdict.lost == 1 and verdict.duplicated == 1
    assert verdict.sent == verdict.unsubscribed + verdict.dead_lettered + verdict.lost
    assert [problem.split(":")[0] for problem in verdict.problems] == [
        "1 lost",
        "1 messages parked with the wrong reason",
        "1 idempotency keys (one address each) unsubscribed more than once",
        "the queue still holds 1 messages",
        "1 leaks",
    ]
    assert verdict.final_line().endswith(", 1 lost, 1 duplicated")


def test_the_verdict_counts_links_lost_done_twice_and_tampered_tokens_taken() -> None:
    # Given four genuine links (one never confirmed, one not carried out, one done twice, one
    # fine) and two tampered ones (one refused, one that unsubscribed its address)
    links = [PlannedLink(f"l{n}@example.com", 2, 0) for n in range(4)] + [
        PlannedLink("t0@example.com", 0, 0, Tampering.CUT),
        PlannedLink("t1@example.com", 0, 0, Tampering.OTHER_KEY),
    ]
    results = ClickResults(links, answers={0: [200, 503], 1: [200, 200], 2: [200, 200], 3: [200, 200]})
    results.answers |= {4: [404], 5: [200]}
    evidence = Evidence(
        opted_out=frozenset({"l0@example.com", "l2@example.com", "l3@example.com", "t1@example.com"}),
        successful_unsubscribes={"l0@example.com": 1, "l2@example.com": 2, "l3@example.com": 1},
        letters=[],
        acknowledged=frozenset(),
        queue_depth=0,
        idempotency_records=[],
        faults=Counter(),
    )
    verdict = Verdict()

    # When the clicks are judged
    judge_clicks(verdict, results, evidence)

    # Then each shows up in the counts and as a problem naming the link, never its address
    assert (verdict.links, verdict.unsubscribed, verdict.lost, verdict.duplicated) == (4, 1, 2, 1)
    assert (verdict.clicks, verdict.tampered_refused) == (10, 1)
    assert [problem.split(":")[0] for problem in verdict.problems] == [
        "1 lost",
        "1 lost",
        "1 one-click links unsubscribed more than once",
        "1 tampered one-click tokens accepted",
    ]
    assert not any("@" in problem for problem in verdict.problems)


@pytest.mark.parametrize(("problems", "exit_code"), [([], 0), (["1 lost: never acknowledged nor parked"], 1)])
def test_the_soak_command_exits_1_on_any_problem_and_ends_with_the_final_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], problems: list[str], exit_code: int
) -> None:
    # Given a soak run that found the given problems
    run = SoakRun(10, 1, Timings.for_messages(10))
    run.verdict = Verdict(sent=10, unsubscribed=10, problems=problems)
    monkeypatch.setattr(soak_cli, "run_queue_soak", lambda *_: run)

    # When the command runs, then its exit code and last line tell
    assert soak_cli.main(["--messages", "10", "--requests", "0"]) == exit_code
    assert capsys.readouterr().out.splitlines()[-1] == run.verdict.final_line()


@pytest.fixture
def dynamodb_proxy(
    function_stack: FunctionStack, moto_endpoint: MotoEndpoint, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TcpProxy]:
    """The function's DynamoDB client (built on its first invocation) talks to moto through this."""
    moto = urlsplit(moto_endpoint.url)
    with TcpProxy(moto.hostname or "127.0.0.1", moto.port or 80) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.url)
        yield proxy


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


@pytest.mark.slow
def test_a_duplicate_held_up_by_an_orphaned_in_progress_record_is_not_parked_without_a_reason(
    function_stack: FunctionStack, moto_endpoint: MotoEndpoint, dynamodb_proxy: TcpProxy
) -> None:
    # Given the function's DynamoDB traffic through a proxy that can cut it off
    proxy = dynamodb_proxy
    table = function_stack.session.client("dynamodb", endpoint_url=moto_endpoint.url)
    sqs = function_stack.session.client("sqs")
    body = {"subscriberIdString": "jane@example.com", "idempotencyKey": "k-1"}

    # And an invocation whose HubSpot call fails while the store is unreachable, so the in-progress
    # record it wrote cannot be deleted (as a store blip, or Lambda killing the invocation, leaves it)
    function_stack.hubspot.configure(latency_ms=1500, invalid_subscribers="^jane@")
    send(function_stack, [body])
    first = threading.Thread(target=invoke, args=(receive_event(function_stack, 1),))
    first.start()
    wait_for(lambda: bool(table.scan(TableName=function_stack.resources.table_name)["Items"]))

    # When a duplicate arrives meanwhile (it is refused as in progress), the store blips while the
    # first one fails, and the duplicate is handled again each time SQS makes it visible
    [duplicate_id] = send(function_stack, [body])
    retried = duplicate_id in failed_ids(invoke(receive_event(function_stack, 1)))
    proxy.refuse()
    first.join()
    proxy.serve()
    function_stack.hubspot.configure(latency_ms=0, invalid_subscribers=None)
    [record] = table.scan(TableName=function_stack.resources.table_name)["Items"]
    assert retried and record["status"]["S"] == "INPROGRESS"
    while retried:
        messages = sqs.receive_message(
            QueueUrl=function_stack.resources.queue_url,
            WaitTimeSeconds=10,  # each time the function's retry delay has passed
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        event = sqs_event(messages, function_stack.resources.queue_arn, "us-east-1")
        retried = duplicate_id in failed_ids(invoke(event))

    # Then it is not moved to the DLQ by SQS's redrive, without a reason, as if it were poison
    assert [letter for letter in dead_letters(function_stack) if "reason" not in letter] == []


def test_on_the_local_aws_one_of_concurrent_conditional_puts_wins(
    aws: boto3.session.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given moto as the local AWS runs it (local/aws/moto_fixes.py), and threads switching as often
    # as they can (moto alone lets two concurrent attribute_not_exists puts of one key both succeed)
    dynamodb = aws.client("dynamodb", config=Config(max_pool_connections=CONTENDERS))
    table = f"race-{uuid.uuid4().hex}"
    dynamodb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    winners: Counter[str] = Counter()
    lost_the_race = dynamodb.exceptions.ConditionalCheckFailedException  # botocore builds it lazily

    def put(key: str, start: threading.Barrier) -> None:
        start.wait()
        with contextlib.suppress(lost_the_race):
            dynamodb.put_item(
                TableName=table, Item={"id": {"S": key}}, ConditionExpression="attribute_not_exists(id)"
            )
            winners[key] += 1

    # When several threads race to create each of 100 keys
    try:
        for number in range(100):
            start = threading.Barrier(CONTENDERS)
            threads = [threading.Thread(target=put, args=(f"k{number}", start)) for _ in range(CONTENDERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        sys.setswitchinterval(switch_interval)

    # Then exactly one put of each key succeeded, as in DynamoDB
    assert set(winners.values()) == {1}
    assert len(winners) == 100
