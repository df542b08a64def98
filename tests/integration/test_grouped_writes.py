"""Writes that arrive together go to DynamoDB (moto over HTTP) together, each caller told of its own."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from optout.aws.clients import AwsClients
from optout.aws.grouped_writes import MAX_ITEMS_PER_REQUEST, GroupedWrites, UnprocessedItemError


@pytest.fixture
def table(aws) -> str:
    name = f"grouped-{uuid.uuid4().hex[:12]}"
    aws.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


class Requests:
    """The BatchWriteItem requests a client sends: how many items each, and a gate to hold them."""

    def __init__(self, clients: AwsClients) -> None:
        self.sizes: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        self.arrived = threading.Event()
        clients.dynamodb().meta.events.register(
            "before-parameter-build.dynamodb.BatchWriteItem", self._before
        )

    def _before(self, params: dict[str, Any], **_: Any) -> None:
        self.sizes.append(sum(len(requests) for requests in params["RequestItems"].values()))
        self.arrived.set()
        self.gate.wait(10)


def item(key: str, status: str = "COMPLETED") -> dict[str, Any]:
    return {"id": {"S": key}, "status": {"S": status}}


def stored(aws, table: str, key: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (
        aws.client("dynamodb").get_item(TableName=table, Key={"id": {"S": key}}).get("Item")
    )
    return found


def test_writes_arriving_while_one_is_in_flight_go_out_together(aws, table):
    # Given a write in flight, held at DynamoDB's door
    clients = AwsClients()
    requests = Requests(clients)
    writes = GroupedWrites(table, clients.dynamodb)
    requests.gate.clear()
    with ThreadPoolExecutor(max_workers=30) as pool:
        first = pool.submit(writes.put, item("first"))
        assert requests.arrived.wait(10)

        # When 29 more arrive meanwhile, and the first is let through
        later = [pool.submit(writes.put, item(f"later-{n}")) for n in range(29)]
        wait_until(lambda: writes.waiting == 29)
        requests.gate.set()
        for future in [first, *later]:
            future.result(timeout=10)

    # Then they went out in as few requests as DynamoDB takes (25 items each), and each is stored
    assert requests.sizes == [1, MAX_ITEMS_PER_REQUEST, 29 - MAX_ITEMS_PER_REQUEST]
    assert stored(aws, table, "first") == item("first")
    assert all(stored(aws, table, f"later-{n}") == item(f"later-{n}") for n in range(29))


def test_one_key_twice_never_shares_a_request_and_the_later_write_wins(aws, table):
    # Given a write in flight, and two writes of another key waiting behind it, one after the other
    clients = AwsClients()
    requests = Requests(clients)
    writes = GroupedWrites(table, clients.dynamodb)
    requests.gate.clear()
    with ThreadPoolExecutor(max_workers=3) as pool:
        first = pool.submit(writes.put, item("other"))
        assert requests.arrived.wait(10)
        earlier = pool.submit(writes.put, item("same", "INPROGRESS"))
        wait_until(lambda: writes.waiting == 1)
        later = pool.submit(writes.put, item("same", "COMPLETED"))
        wait_until(lambda: writes.waiting == 2)

        # When the one in flight is let through
        requests.gate.set()
        for future in (first, earlier, later):
            future.result(timeout=10)

    # Then each of the two went out in a request of its own, in the order they came
    assert requests.sizes == [1, 1, 1]
    assert stored(aws, table, "same") == item("same", "COMPLETED")


def test_a_failed_request_fails_every_write_it_carried(aws):
    # Given a table that does not exist
    writes = GroupedWrites(f"missing-{uuid.uuid4().hex[:8]}", AwsClients().dynamodb)

    # When a write is made, then the caller hears DynamoDB's refusal
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        writes.put(item("k"))


def test_an_item_dynamodb_keeps_leaving_unprocessed_fails_after_the_retries(aws, table):
    # Given a DynamoDB that leaves every item unprocessed (moto never throttles: its answer is edited)
    clients = AwsClients()
    sent: list[int] = []

    def throttled(parsed: dict[str, Any], **_: Any) -> None:
        sent.append(1)
        parsed["UnprocessedItems"] = {table: [{"PutRequest": {"Item": item("k")}}]}

    clients.dynamodb().meta.events.register("after-call.dynamodb.BatchWriteItem", throttled)
    pauses: list[float] = []
    writes = GroupedWrites(table, clients.dynamodb, sleep=pauses.append)

    # When the write is made, then it is sent again after each pause, and finally failed
    with pytest.raises(UnprocessedItemError):
        writes.put(item("k"))
    assert len(sent) == len(pauses) + 1
    assert pauses == sorted(pauses)
    assert pauses


def test_an_item_left_unprocessed_once_is_sent_again_alone(aws, table):
    # Given a DynamoDB that leaves one item of the first request unprocessed
    clients = AwsClients()
    sizes: list[int] = []

    def throttle_once(parsed: dict[str, Any], **_: Any) -> None:
        if not sizes:
            parsed["UnprocessedItems"] = {table: [{"PutRequest": {"Item": item("b")}}]}
        sizes.append(1)

    clients.dynamodb().meta.events.register("after-call.dynamodb.BatchWriteItem", throttle_once)
    writes = GroupedWrites(table, clients.dynamodb, sleep=lambda _: None)

    # When it is written, then it was sent twice and is stored
    writes.put(item("b"))
    assert len(sizes) == 2
    assert stored(aws, table, "b") == item("b")


def wait_until(condition: Callable[[], bool], timeout_s: float = 10) -> None:
    event = threading.Event()
    for _ in range(int(timeout_s / 0.005)):
        if condition():
            return
        event.wait(0.005)
    raise AssertionError("condition not met in time")
