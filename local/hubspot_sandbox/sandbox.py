"""`HubSpotSandbox`: start, steer, inspect and stop a local HubSpot on a real socket."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from local.hubspot_sandbox.admin import handle_admin_request, is_admin_target
from local.hubspot_sandbox.api import handle_api_request
from local.hubspot_sandbox.calls import CallRecord
from local.hubspot_sandbox.config import SandboxConfig, with_changes
from local.hubspot_sandbox.faults import FaultKind, parse_scripted_fault
from local.hubspot_sandbox.server import HangUp, IncomingRequest, Reply, SandboxHTTPServer
from local.hubspot_sandbox.state import SandboxState
from local.lifecycle import StartStop


class HubSpotSandbox(StartStop):
    """A local HubSpot for the unsubscribe-all operations. Use as a context manager, or start()/stop().

    The control methods act at once on a running sandbox and mirror the `/__sandbox/` endpoints.
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self._config = config or SandboxConfig()
        self._state = SandboxState(self._config)
        self._stopping = threading.Event()
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "not started"
        return f"HubSpotSandbox({where})"

    def start(self) -> None:
        """Bind (port 0 picks a free port) and serve on a background thread."""
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        self._stopping.clear()
        self._server = SandboxHTTPServer(
            self._config.host,
            self._config.port,
            self._respond,
            self._stopping,
            log_requests=self._config.log_requests,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="hubspot-sandbox",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, end open connections and wake hung calls. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join()
        self._server = self._thread = None

    @property
    def base_url(self) -> str:
        """Where the sandbox listens, such as `http://127.0.0.1:54321`."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        host, port = self._server.socket.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def configure(self, **changes: Any) -> None:
        """Change settings at run time: any SandboxConfig field but host, port, tokens, log_requests.

        `quirks` (a list of names) replaces the whole set. Giving a seed restarts the fault and
        jitter sequences from it, so a run can be replayed.
        """
        with self._state.lock:
            self._state.apply_config(with_changes(self._state.config, changes), reseed="seed" in changes)

    def set_tokens(self, tokens: Mapping[str, Iterable[str]]) -> None:
        """Accept exactly these tokens, with these scopes."""
        with self._state.lock:
            self._state.tokens.replace_all(tokens)

    def add_token(self, token: str, scopes: Iterable[str]) -> None:
        with self._state.lock:
            self._state.tokens.add(token, scopes)

    def revoke_token(self, token: str) -> None:
        """From now on the token gets 401, as a revoked private app token does."""
        with self._state.lock:
            self._state.tokens.revoke(token)

    def script_faults(self, faults: Iterable[FaultKind | str | None]) -> None:
        """The next API calls that pass authentication, limits and scopes get these faults, in order.

        None (or "ok") lets a call through; the script replaces any pending one and beats the rates.
        """
        script = [parse_scripted_fault(fault) for fault in faults]
        with self._state.lock:
            self._state.faults.script(script)

    def calls(self) -> list[CallRecord]:
        with self._state.lock:
            return self._state.calls.records()

    def unsubscribe_through_api(self, token: str, address: str, business_unit_id: int = 0) -> None:
        """An opt-out HubSpot holds from before: made through HubSpot's own API, as any client's.

        Made before a quirk is switched on, it meets none (the quirks note no write while off).
        """
        url = (
            f"{self.base_url}/communication-preferences/v4/statuses/{quote(address, safe='')}"
            f"/unsubscribe-all?channel=EMAIL&businessUnitId={business_unit_id}"
        )
        request = urllib.request.Request(url, method="POST", headers={"Authorization": f"Bearer {token}"})  # noqa: S310 - its own loopback address
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - its own loopback address
            pass

    def successful_unsubscribes(self) -> dict[str, int]:
        """How many successful unsubscribe-all calls (single or batch) named each lower-cased subscriber."""
        with self._state.lock:
            return self._state.opt_outs.successful_unsubscribes()

    def state(self) -> dict[str, Any]:
        """Settings, seed, opt-outs, counters, limits used and pending script as JSON (never a token)."""
        with self._state.lock:
            return self._state.as_json()

    def reset(self) -> None:
        """Back to how it started: settings, tokens, limits, faults, opt-outs and the call log."""
        with self._state.lock:
            self._state.reset()

    def _respond(self, request: IncomingRequest) -> Reply | HangUp:
        if is_admin_target(request.target):
            return handle_admin_request(self, request)
        return handle_api_request(self._state, request, self._stopping.wait)
