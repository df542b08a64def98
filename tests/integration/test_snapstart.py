"""SnapStart's runtime hooks, run as Lambda runs them: before the snapshot, then after a restore.

Lambda's managed Python runtimes provide `snapshot_restore_py`; here a stand-in with the same two
registration functions records the hooks the handler's module registers at import, and runs them
in Lambda's order (before-snapshot hooks in reverse order of registration, after-restore hooks in
order). Everything else is real: the handler, moto over HTTP, the HubSpot sandbox over a socket.
"""

from __future__ import annotations

import socket
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.hubspot_sandbox.auth import READ, WRITE
from local.runners.lambda_context import LocalLambdaContext
from local.runners.lambda_invoker import load_handler
from tests.integration.function_harness import sqs_event

CODE_URI = Path(__file__).resolve().parents[2] / "functions" / "unsubscribe_all"
FUNCTION = "hubspot-unsubscribe-all"  # the function's clients name themselves so to AWS

Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class SnapshotRuntime:
    """Stands in for Lambda's `snapshot_restore_py`: the hooks registered, run as Lambda runs them."""

    def __init__(self) -> None:
        self.before: list[Hook] = []
        self.after: list[Hook] = []
        self.module = types.ModuleType("snapshot_restore_py")
        self.module.register_before_snapshot = self._registrar(self.before)  # type: ignore[attr-defined]
        self.module.register_after_restore = self._registrar(self.after)  # type: ignore[attr-defined]

    @staticmethod
    def _registrar(hooks: list[Hook]) -> Callable[..., Any]:
        def register(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
            hooks.append((func, args, kwargs))
            return func

        return register

    def take_snapshot(self) -> None:
        for func, args, kwargs in reversed(self.before):
            func(*args, **kwargs)

    def restore(self) -> None:
        for func, args, kwargs in self.after:
            func(*args, **kwargs)


@pytest.fixture
def snapshot_runtime(monkeypatch: pytest.MonkeyPatch) -> SnapshotRuntime:
    runtime = SnapshotRuntime()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime.module)
    return runtime


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Where this process opens TCP connections to, in order (each connect is made, as ever)."""
    opened: list[tuple[str, int]] = []
    connect = socket.socket.connect

    def recorded(sock: socket.socket, address: Any) -> None:
        if isinstance(address, tuple):
            opened.append((str(address[0]), int(address[1])))
        connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recorded)
    return opened


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def invoke(handler: Callable[..., Any], event: dict[str, Any]) -> Any:
    return handler(event, LocalLambdaContext())


def test_the_handler_registers_one_hook_of_each_kind_at_import(function_stack, snapshot_runtime):
    # Given Lambda's runtime with its hooks library; when the handler's module is imported
    load_handler(CODE_URI, "app.lambda_handler")

    # Then it has registered one hook to run before the snapshot and one after each restore
    assert len(snapshot_runtime.before) == 1
    assert len(snapshot_runtime.after) == 1


def test_before_the_snapshot_the_runtime_is_built_and_nothing_is_called(
    function_stack, snapshot_runtime, moto_endpoint
):
    # Given a fresh execution environment, SnapStart on
    handler = load_handler(CODE_URI, "app.lambda_handler")
    environment = handler.__globals__
    moto_endpoint.calls.clear()

    # When Lambda runs the before-snapshot hooks
    snapshot_runtime.take_snapshot()

    # Then the runtime, the handler's instrumentation and the API are built into the snapshot,
    # with no AWS call (no token read) and no HubSpot call made
    assert environment["current_runtime"].cache_info().currsize == 1
    assert environment["instrumented_handler"].cache_info().currsize == 1
    assert environment["current_api"].cache_info().currsize == 1
    assert [call for call in moto_endpoint.calls.calls() if call.principal == FUNCTION] == []
    assert function_stack.hubspot.calls() == []


def test_a_restored_copy_reads_the_token_again_and_opens_new_connections(
    function_stack, snapshot_runtime, hubspot_token, connections
):
    # Given an environment prepared for the snapshot and serving: its token read, its connections open
    first, second, third = (
        sqs_event(function_stack, [{"subscriberIdString": f"{name}@example.com"}])
        for name in ("first", "second", "third")
    )
    handler = load_handler(CODE_URI, "app.lambda_handler")
    snapshot_runtime.take_snapshot()
    assert invoke(handler, first) == {"batchItemFailures": []}
    opened_before = len(connections)
    assert invoke(handler, second) == {"batchItemFailures": []}
    opened_while_serving = connections[opened_before:]

    # When the token is rotated (a new one in the secret, the old one revoked at HubSpot) and
    # Lambda restores the environment from its snapshot
    secrets = function_stack.session.client("secretsmanager")
    secrets.put_secret_value(SecretId=function_stack.resources.secret_id, SecretString="after-restore")
    function_stack.hubspot.add_token("after-restore", {READ, WRITE})
    function_stack.hubspot.revoke_token(hubspot_token)
    calls_before_restore = len(function_stack.hubspot.calls())
    snapshot_runtime.restore()
    opened_at_restore = len(connections)
    response = invoke(handler, third)

    # Then the restored copy read the secret again before calling HubSpot (its first call carried
    # the new token: no 401), and connected to HubSpot anew, where the serving environment had
    # kept its connection (moto closes each connection after its answer, so AWS shows nothing here)
    assert response == {"batchItemFailures": []}
    assert [call.status for call in function_stack.hubspot.calls()[calls_before_restore:]] == [200]
    hubspot = port_of(function_stack.hubspot.base_url)
    assert [port for _, port in opened_while_serving if port == hubspot] == []
    assert hubspot in {port for _, port in connections[opened_at_restore:]}
