"""The `/__sandbox/` endpoints: inspect and steer a running sandbox over HTTP, from loopback only.

HubSpot never serves this prefix. These calls need no token, are not rate limited and are not logged.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from local.hubspot_sandbox.responses import Json, error_body
from local.hubspot_sandbox.routes import split_target
from local.hubspot_sandbox.server import IncomingRequest, Reply

if TYPE_CHECKING:
    from local.hubspot_sandbox.sandbox import HubSpotSandbox

ADMIN_PREFIX = "/__sandbox/"
TOKEN_CHANGES = frozenset({"set", "add", "revoke"})


def is_admin_target(target: str) -> bool:
    return target.startswith(ADMIN_PREFIX)


def handle_admin_request(sandbox: HubSpotSandbox, request: IncomingRequest) -> Reply:
    if not ipaddress.ip_address(request.client_host).is_loopback:
        return Reply(
            403, error_body("The sandbox's admin endpoints answer loopback clients only.", "FORBIDDEN")
        )
    path = split_target(request.target)[0].removeprefix(ADMIN_PREFIX)
    action = ACTIONS.get((request.method, path))
    if action is None:
        return Reply(
            404, error_body(f"No admin endpoint at {request.method} {ADMIN_PREFIX}{path}.", "NOT_FOUND")
        )
    try:
        payload = json.loads(request.body) if request.body else {}
        if not isinstance(payload, dict):
            raise TypeError("the body must be a JSON object")
        return Reply(200, action(sandbox, payload))
    except (ValueError, TypeError) as error:
        return Reply(400, error_body(str(error), "VALIDATION_ERROR"))


def _calls(sandbox: HubSpotSandbox, _payload: dict[str, Any]) -> Json:
    return {"calls": [record.as_json() for record in sandbox.calls()]}


def _state(sandbox: HubSpotSandbox, _payload: dict[str, Any]) -> Json:
    return sandbox.state()


def _configure(sandbox: HubSpotSandbox, payload: dict[str, Any]) -> Json:
    sandbox.configure(**payload)
    return {"config": sandbox.state()["config"]}


def _tokens(sandbox: HubSpotSandbox, payload: dict[str, Any]) -> Json:
    """`{"set": {token: [scopes]}, "add": {token: [scopes]}, "revoke": [token]}`, each optional."""
    unknown = sorted(set(payload) - TOKEN_CHANGES)
    if unknown:
        raise ValueError(f"unknown token changes: {', '.join(unknown)}; use set, add or revoke")
    if "set" in payload:
        sandbox.set_tokens(dict(payload["set"]))
    for token, scopes in dict(payload.get("add", {})).items():
        sandbox.add_token(token, scopes)
    for token in list(payload.get("revoke", [])):
        sandbox.revoke_token(token)
    return {"tokenCount": sandbox.state()["tokenCount"]}


def _script(sandbox: HubSpotSandbox, payload: dict[str, Any]) -> Json:
    """`{"faults": ["500", "timeout", null, ...]}`: what the next calls get (null: no fault)."""
    sandbox.script_faults(list(payload.get("faults", [])))
    return {"scriptedFaults": sandbox.state()["scriptedFaults"]}


def _reset(sandbox: HubSpotSandbox, _payload: dict[str, Any]) -> Json:
    sandbox.reset()
    return sandbox.state()


ACTIONS: dict[tuple[str, str], Callable[[HubSpotSandbox, dict[str, Any]], Json]] = {
    ("GET", "calls"): _calls,
    ("GET", "state"): _state,
    ("POST", "config"): _configure,
    ("POST", "tokens"): _tokens,
    ("POST", "script"): _script,
    ("POST", "reset"): _reset,
}
