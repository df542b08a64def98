"""The five operations: the checks that depend on settings, the opt-out change, the body."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from local.hubspot_sandbox import responses
from local.hubspot_sandbox.config import BatchInvalidMode, SandboxConfig
from local.hubspot_sandbox.opt_outs import OptOutStore
from local.hubspot_sandbox.responses import Json
from local.hubspot_sandbox.routes import Operation, Route
from local.hubspot_sandbox.validation import FieldError, ParsedCall, email_problem

UNSUBSCRIBED = "UNSUBSCRIBE_FROM_ALL_OCCURRED"
UNCHANGED = "NO_STATUS_CHANGE"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Json
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Context:
    """A valid call's parameters, the store it acts on and the settings in force."""

    business_unit_id: int
    verbose: bool
    store: OptOutStore
    config: SandboxConfig
    started_at: datetime


def perform(
    route: Route, call: ParsedCall, store: OptOutStore, config: SandboxConfig, now: datetime
) -> Answer:
    """Answer a call that got past authentication, the rate limits and fault injection."""
    errors = list(call.errors)
    if route.subscriber is not None:
        errors += _subscriber_errors([route.subscriber], config, location="subscriberIdString")
    # A missing business unit id always comes with its error; the second test is for the type checker.
    if errors or call.business_unit_id is None:
        return Answer(400, responses.validation_error(errors))
    context = Context(call.business_unit_id, call.verbose, store, config, now)
    if route.subscriber is not None:
        return Answer(200, SINGLE_OPERATIONS[route.operation](route.subscriber, context))
    return _batch(BATCH_OPERATIONS[route.operation], call.inputs or (), context)


def _unsubscribe_all(subscriber: str, context: Context) -> Json:
    return _write_envelope(_opt_out(subscriber, context), context)


def _read_unsubscribe_all(subscriber: str, context: Context) -> Json:
    results = _wide_statuses(subscriber, context, verbose=context.verbose)
    return responses.envelope(results, context.started_at, context.config, verbose=context.verbose)


def _read_statuses(subscriber: str, context: Context) -> Json:
    opt_out = context.store.find(subscriber, context.business_unit_id)
    results = responses.subscription_statuses(
        subscriber, context.business_unit_id, opt_out, reason=None, verbose=True
    )
    return responses.envelope(results, context.started_at, context.config, verbose=True)


def _batch_unsubscribe_all(subscribers: Sequence[str], context: Context) -> Json:
    results = [
        {"subscriberIdString": subscriber, "statuses": _opt_out(subscriber, context)}
        for subscriber in subscribers
    ]
    return _write_envelope(results, context)


def _batch_read_unsubscribe_all(subscribers: Sequence[str], context: Context) -> Json:
    results = [
        {"subscriberIdString": subscriber, "wideStatuses": _wide_statuses(subscriber, context, verbose=True)}
        for subscriber in subscribers
    ]
    return responses.envelope(results, context.started_at, context.config, verbose=False)


SINGLE_OPERATIONS: dict[Operation, Callable[[str, Context], Json]] = {
    Operation.UNSUBSCRIBE_ALL: _unsubscribe_all,
    Operation.READ_UNSUBSCRIBE_ALL: _read_unsubscribe_all,
    Operation.READ_STATUSES: _read_statuses,
}
BATCH_OPERATIONS: dict[Operation, Callable[[Sequence[str], Context], Json]] = {
    Operation.BATCH_UNSUBSCRIBE_ALL: _batch_unsubscribe_all,
    Operation.BATCH_READ_UNSUBSCRIBE_ALL: _batch_read_unsubscribe_all,
}


def _batch(
    operation: Callable[[Sequence[str], Context], Json], inputs: Sequence[str], context: Context
) -> Answer:
    config = context.config
    if len(inputs) > config.batch_max_inputs:
        message = f"At most {config.batch_max_inputs} inputs are allowed per call, not {len(inputs)}."
        return Answer(400, responses.validation_error([FieldError(message, "inputs")]))
    errors = _subscriber_errors(inputs, config, location="inputs")
    if errors and config.batch_invalid_mode is BatchInvalidMode.REJECT_BATCH:
        return Answer(400, responses.validation_error(errors))
    invalid = {error.subscriber for error in errors}
    body = operation(_distinct(subscriber for subscriber in inputs if subscriber not in invalid), context)
    if not errors:
        return Answer(200, body)
    body["errors"] = [responses.batch_input_error(error) for error in errors]
    body["numErrors"] = len(errors)
    return Answer(207, body)


def _opt_out(subscriber: str, context: Context) -> list[Json]:
    opt_out, changed = context.store.unsubscribe_all(subscriber, context.business_unit_id, context.started_at)
    return responses.subscription_statuses(
        subscriber,
        context.business_unit_id,
        opt_out,
        reason=UNSUBSCRIBED if changed else UNCHANGED,
        verbose=context.verbose,
    )


def _wide_statuses(subscriber: str, context: Context, *, verbose: bool) -> list[Json]:
    opt_out = context.store.find(subscriber, context.business_unit_id)
    return responses.wide_statuses(subscriber, opt_out, verbose=verbose)


def _write_envelope(results: list[Json], context: Context) -> Json:
    if context.config.empty_results_unless_verbose and not context.verbose:
        results = []  # the quirk some accounts show: a terse write answers with no results at all
    return responses.envelope(results, context.started_at, context.config, verbose=context.verbose)


def _subscriber_errors(
    subscribers: Iterable[str], config: SandboxConfig, *, location: str
) -> list[FieldError]:
    pattern = config.invalid_subscriber_pattern
    problems = ((subscriber, email_problem(subscriber, pattern)) for subscriber in subscribers)
    return [FieldError(problem, location, subscriber) for subscriber, problem in problems if problem]


def _distinct(subscribers: Iterable[str]) -> list[str]:
    """The first spelling of each subscriber, compared case-insensitively as HubSpot does."""
    first_spelling: dict[str, str] = {}
    for subscriber in subscribers:
        first_spelling.setdefault(subscriber.lower(), subscriber)
    return list(first_spelling.values())
