"""One HubSpot API call, in HubSpot's order: route, latency, authentication, rate limits, scopes,
injected faults, then validation and the change itself. Sleeps happen outside the lock, and a
call that fails before the last step changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from local.hubspot_sandbox import responses
from local.hubspot_sandbox.auth import bearer_token, missing_scopes
from local.hubspot_sandbox.calls import RequestSummary
from local.hubspot_sandbox.clock import utc_now
from local.hubspot_sandbox.faults import FaultKind
from local.hubspot_sandbox.operations import Answer, perform
from local.hubspot_sandbox.quirks import Quirk
from local.hubspot_sandbox.routes import NoRoute, Route, match_route, split_target
from local.hubspot_sandbox.server import HangUp, IncomingRequest, Reply
from local.hubspot_sandbox.state import SandboxState
from local.hubspot_sandbox.validation import ParsedCall, parse_call

Pause = Callable[[float], object]


def handle_api_request(state: SandboxState, request: IncomingRequest, pause: Pause) -> Reply | HangUp:
    started_at = utc_now()
    raw_path, query = split_target(request.target)
    route = match_route(request.method, raw_path)
    with state.lock:
        latency_s = state.next_latency_s()
    pause(latency_s)
    if isinstance(route, NoRoute):
        with state.lock:
            return _finish(
                state,
                _summary(request, raw_path, query, None, None),
                _no_route(request.method, raw_path, route),
            )

    call = parse_call(route.operation, query, request.body)
    summary = _summary(request, raw_path, query, route, call)
    with state.lock:
        refusal = _refusal(state, route, request.authorization)
        if refusal is not None:
            return _finish(state, summary, refusal)
        fault = state.faults.next_fault()
        slow_delay_s = state.config.slow_delay_s
        if fault is not None and fault is not FaultKind.SLOW:
            return _inject(state, summary, fault)
    if fault is FaultKind.SLOW:
        pause(slow_delay_s)
    with state.lock:
        return _finish(state, summary, perform(route, call, state.account, state.config, started_at), fault)


def _no_route(method: str, raw_path: str, route: NoRoute) -> Answer:
    if route.allowed:
        body = responses.method_not_allowed_error(method, route.allowed)
        return Answer(405, body, {"Allow": ", ".join(route.allowed)})
    return Answer(404, responses.not_found_error(method, raw_path))


def _refusal(state: SandboxState, route: Route, authorization: str | None) -> Answer | None:
    scopes = state.tokens.scopes_of(bearer_token(authorization))
    if scopes is None:
        return Answer(401, responses.authentication_error())
    rejection = state.admit()
    if rejection is not None:
        headers = {}
        if rejection.retry_after_s is not None and state.config.has(Quirk.RETRY_AFTER):
            headers["Retry-After"] = str(rejection.retry_after_s)
        return Answer(429, responses.rate_limit_error(rejection.policy), headers)
    required = missing_scopes(route.operation, scopes)
    if required:
        return Answer(403, responses.missing_scopes_error(required))
    return None


def _inject(state: SandboxState, summary: RequestSummary, fault: FaultKind) -> Reply | HangUp:
    status = fault.http_status
    if status is None:
        state.calls.append(summary, None, fault.value)
        return HangUp(state.config.timeout_hang_s if fault is FaultKind.TIMEOUT else 0.0)
    # HubSpot documents Retry-After on 477; on 429 it was only seen (the retry-after quirk).
    retry_after = fault is FaultKind.MIGRATING or (
        fault is FaultKind.RATE_LIMITED and state.config.has(Quirk.RETRY_AFTER)
    )
    headers = {"Retry-After": str(state.config.fault_retry_after_s)} if retry_after else {}
    return _finish(state, summary, Answer(status, responses.fault_error(fault), headers), fault)


def _finish(
    state: SandboxState, summary: RequestSummary, answer: Answer, fault: FaultKind | None = None
) -> Reply:
    """Log the call and add the rate-limit headers, as they stand after it."""
    state.calls.append(summary, answer.status, None if fault is None else fault.value)
    return Reply(answer.status, answer.body, {**state.rate_limit_headers(), **answer.headers})


def _summary(
    request: IncomingRequest, raw_path: str, query: str, route: Route | None, call: ParsedCall | None
) -> RequestSummary:
    return RequestSummary(
        method=request.method,
        raw_path=raw_path,
        query=query,
        operation=None if route is None else route.operation.value,
        subscriber=None if route is None else route.subscriber,
        inputs=None if call is None else call.inputs,
        business_unit_id=None if call is None else call.business_unit_id,
    )
