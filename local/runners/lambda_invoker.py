"""Lambda's part in an invocation: execution environments, the context, the timeout, the answer.

Each execution environment is a fresh import of the handler module (a cold start, with its own
module-level state), used by one invocation at a time and reused afterwards, as Lambda does;
concurrent invocations get environments of their own. An invocation runs on its own thread
and is given up at its time limit: Lambda would kill it, a thread cannot be killed, so its
environment is discarded and the thread left to finish on its own (the function's own
deadlines end it soon after). The answer goes through JSON, as Lambda serialises it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from itertools import count
from pathlib import Path
from types import ModuleType
from typing import Any

from local.runners.function_definition import FunctionDefinition
from local.runners.lambda_context import LocalLambdaContext

Handler = Callable[[dict[str, Any], Any], Any]
_LOADING = threading.Lock()  # sys.modules is the process's, whichever thread loads


class InvocationStatus(StrEnum):
    RETURNED = "returned"
    RAISED = "raised"  # the handler raised, or returned something JSON cannot carry
    TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class Invocation:
    status: InvocationStatus
    duration_s: float
    response: Any = None  # the answer as the caller receives it (after a JSON round trip)
    error: BaseException | None = None


def load_handler(code_uri: Path, handler: str) -> Handler:
    """Imports `module.function` from `code_uri` as a new module object: a cold start."""
    module_name, _, function_name = handler.rpartition(".")
    # One at a time: two loads interleaving would each put back what the other registered,
    # leaving a stray copy in sys.modules for the rest of the process.
    with _LOADING:
        if str(code_uri) not in sys.path:
            sys.path.insert(0, str(code_uri))
        spec = importlib.util.find_spec(module_name)
        if spec is None or spec.loader is None:
            raise ImportError(f"no module {module_name!r} under {code_uri}")
        module = importlib.util.module_from_spec(spec)
        # Registered while it runs (decorators and dataclasses look their module up), then put
        # back: every environment keeps a module object of its own.
        previous = sys.modules.get(module_name)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        finally:
            _restore_module(module_name, previous)
    function: Handler = getattr(module, function_name)
    return function


def _restore_module(name: str, previous: ModuleType | None) -> None:
    if previous is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = previous


class LambdaInvoker:
    """Invokes one function; thread-safe, so several triggers can share it as they share a function."""

    def __init__(self, function: FunctionDefinition, load: Callable[[], Handler] | None = None) -> None:
        self.function = function
        self._load = load or partial(load_handler, function.code_uri, function.handler)
        self._lock = threading.Lock()
        self._idle: list[Handler] = []
        self._running: set[threading.Thread] = set()
        self._numbers = count(1)

    def invoke(self, event: dict[str, Any], *, give_up_after_s: float | None = None) -> Invocation:
        """Runs the handler; waits the function's timeout, or `give_up_after_s` when given.

        The context always reports the function's configured timeout: a shorter wait stands for
        an invocation that overran it (cut off while the function thought it had time left).
        """
        handler = self._environment()
        context = LocalLambdaContext(
            function_name=self.function.name,
            memory_limit_in_mb=self.function.memory_mb,
            timeout_s=self.function.timeout_s,
        )
        result: Future[Any] = Future()
        thread = threading.Thread(
            target=self._run,
            args=(handler, event, context, result),
            name=f"lambda-invocation-{next(self._numbers)}",
            daemon=True,  # a cut-off invocation must not keep the process alive
        )
        with self._lock:
            self._running.add(thread)
        started = time.monotonic()
        thread.start()
        wait_s = self.function.timeout_s if give_up_after_s is None else give_up_after_s
        try:
            response = result.result(timeout=wait_s)
        except FutureTimeoutError:
            return Invocation(InvocationStatus.TIMED_OUT, time.monotonic() - started)
        except Exception as error:
            self._release(handler)
            return Invocation(InvocationStatus.RAISED, time.monotonic() - started, error=error)
        self._release(handler)
        return Invocation(InvocationStatus.RETURNED, time.monotonic() - started, response=response)

    def warm_up(self) -> None:
        """Starts one environment now, so a handler that cannot even be imported fails here."""
        self._release(self._environment())

    def close(self) -> None:
        """Waits for invocations still running, cut-off ones included, up to the function's timeout."""
        deadline = time.monotonic() + self.function.timeout_s
        with self._lock:
            running = list(self._running)
        for thread in running:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _environment(self) -> Handler:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._load()

    def _release(self, handler: Handler) -> None:
        with self._lock:
            self._idle.append(handler)

    def _run(
        self, handler: Handler, event: dict[str, Any], context: LocalLambdaContext, result: Future[Any]
    ) -> None:
        try:
            result.set_result(json.loads(json.dumps(handler(event, context))))
        except Exception as error:
            result.set_exception(error)
        finally:
            with self._lock:
                self._running.discard(threading.current_thread())
