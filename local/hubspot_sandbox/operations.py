"""The five operations: the checks that depend on settings, the opt-out change, the answer.

With no quirk on, every answer is what HubSpot documents. Without `verbose=true`, writes and the
single status read are terse: the envelope's required fields (`status`, `results`, `startedAt`,
`completedAt`) with `results: []`, though a write still makes its change. A batch's invalid inputs
come back in `errors`/`numErrors`: inside a 200 for batch unsubscribe-all (the only status its
schema declares), in a 207 for the batch read where its version declares one (v4, 2026-03).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from local.hubspot_sandbox import responses
from local.hubspot_sandbox.config import SandboxConfig
from local.hubspot_sandbox.opt_outs import Account, subscriber_key
from local.hubspot_sandbox.quirks import Quirk
from local.hubspot_sandbox.responses import Json
from local.hubspot_sandbox.routes import Operation, Route
from local.hubspot_sandbox.validation import MAX_INT64, FieldError, ParsedCall, email_problem

UNSUBSCRIBED = "UNSUBSCRIBE_FROM_ALL_OCCURRED"
UNCHANGED = "NO_STATUS_CHANGE"
# The batch read declares a 207 for answers with errors in these versions; 2026-09 declares only 200.
BATCH_READ_207_VERSIONS = frozenset({"v4", "2026-03"})


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Json
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Context:
    """A valid call's parameters, the account it acts on and the settings in force."""

    business_unit_id: int
    verbose: bool
    version: str
    account: Account
    config: SandboxConfig
    started_at: datetime

    def has(self, quirk: Quirk) -> bool:
        return self.config.has(quirk)


def perform(route: Route, call: ParsedCall, account: Account, config: SandboxConfig, now: datetime) -> Answer:
    """Answer a call that got past authentication, the rate limits and fault injection."""
    errors = list(call.errors)
    if route.subscriber is not None:
        errors += _subscriber_errors([route.subscriber], config, location="subscriberIdString")
    # A missing business unit id always comes with its error; the second test is for the type checker.
    if errors or call.business_unit_id is None:
        return Answer(400, responses.validation_error(errors))
    context = Context(call.business_unit_id, call.verbose, route.version, account, config, now)
    if route.subscriber is not None:
        return SINGLE_OPERATIONS[route.operation](route.subscriber, context)
    return _batch(route.operation, call.inputs or (), context)


def _unsubscribe_all(subscriber: str, context: Context) -> Answer:
    if _canceled([subscriber], context):
        return Answer(200, _envelope([], context, status="CANCELED"))
    already = context.account.opt_outs.find(subscriber, context.business_unit_id) is not None
    if already and context.has(Quirk.ALREADY_UNSUBSCRIBED_400):
        return Answer(400, responses.already_unsubscribed_error(subscriber))
    return Answer(200, _write_envelope(_opt_out(subscriber, context), context))


def _read_unsubscribe_all(subscriber: str, context: Context) -> Answer:
    results = _wide_statuses(subscriber, context) if context.verbose else []
    return Answer(200, _envelope(results, context, status=_done(context)))


def _read_statuses(subscriber: str, context: Context) -> Answer:
    opt_out = context.account.opt_outs.find(subscriber, context.business_unit_id)
    results = responses.subscription_statuses(subscriber, context.business_unit_id, opt_out, reason=None)
    return Answer(200, _envelope(results, context, status=_done(context), verbose=True))


def _batch_unsubscribe_all(subscribers: Sequence[str], context: Context) -> Json:
    if _canceled(subscribers, context):
        return _envelope([], context, status="CANCELED")
    results = [
        {"subscriberIdString": subscriber, "statuses": _opt_out(subscriber, context)}
        for subscriber in subscribers
    ]
    return _write_envelope(results, context)


def _batch_read_unsubscribe_all(subscribers: Sequence[str], context: Context) -> Json:
    """The batch read takes no `verbose`: it always lists each input's wide statuses."""
    results = [
        {"subscriberIdString": subscriber, "wideStatuses": _wide_statuses(subscriber, context)}
        for subscriber in subscribers
    ]
    return _envelope(results, context, status=_done(context), verbose=False)


SINGLE_OPERATIONS: dict[Operation, Callable[[str, Context], Answer]] = {
    Operation.UNSUBSCRIBE_ALL: _unsubscribe_all,
    Operation.READ_UNSUBSCRIBE_ALL: _read_unsubscribe_all,
    Operation.READ_STATUSES: _read_statuses,
}
BATCH_OPERATIONS: dict[Operation, Callable[[Sequence[str], Context], Json]] = {
    Operation.BATCH_UNSUBSCRIBE_ALL: _batch_unsubscribe_all,
    Operation.BATCH_READ_UNSUBSCRIBE_ALL: _batch_read_unsubscribe_all,
}


def _batch(operation: Operation, inputs: Sequence[str], context: Context) -> Answer:
    config = context.config
    if len(inputs) > config.batch_max_inputs:
        message = f"At most {config.batch_max_inputs} inputs are allowed per call, not {len(inputs)}."
        return Answer(400, responses.validation_error([FieldError(message, "inputs")]))
    errors = _subscriber_errors(inputs, config, location="inputs")
    if errors and context.has(Quirk.REJECT_BATCH):
        return Answer(400, responses.validation_error(errors))
    invalid = {error.subscriber for error in errors}
    valid = _distinct(subscriber for subscriber in inputs if subscriber not in invalid)
    body = BATCH_OPERATIONS[operation](valid, context)
    if not errors:
        return Answer(200, body)
    body["errors"] = [responses.batch_input_error(error) for error in errors]
    body["numErrors"] = len(errors)
    return Answer(207 if _answers_207(operation, context) else 200, body)


def _answers_207(operation: Operation, context: Context) -> bool:
    if operation is Operation.BATCH_UNSUBSCRIBE_ALL:
        return context.has(Quirk.PARTIAL_207)  # CRM batch calls answer so; this one's schema does not
    return context.version in BATCH_READ_207_VERSIONS


def _canceled(subscribers: Sequence[str], context: Context) -> bool:
    """With the canceled quirk, a write holding any subscriber's first attempt is canceled whole."""
    if not context.has(Quirk.CANCELED):
        return False
    attempts = context.account.write_attempts
    first = [attempts.first(subscriber, context.business_unit_id) for subscriber in subscribers]
    return any(first)  # every subscriber noted, so the retry of each goes through


def _opt_out(subscriber: str, context: Context) -> list[Json]:
    opt_outs = context.account.opt_outs
    opt_out, changed = opt_outs.unsubscribe_all(subscriber, context.business_unit_id, context.started_at)
    reason = UNSUBSCRIBED if changed else UNCHANGED
    return responses.subscription_statuses(subscriber, context.business_unit_id, opt_out, reason=reason)


def _wide_statuses(subscriber: str, context: Context) -> list[Json]:
    opt_out = context.account.opt_outs.find(subscriber, context.business_unit_id)
    statuses = responses.wide_statuses(subscriber, opt_out)
    if context.has(Quirk.OTHER_BRAND_STATUSES):  # listed first, to catch a client that reads only one
        statuses.insert(0, responses.other_brand_status(subscriber, _other_brand(context.business_unit_id)))
    return statuses


def _other_brand(business_unit_id: int) -> int:
    return business_unit_id + 1 if business_unit_id < MAX_INT64 else business_unit_id - 1


def _write_envelope(results: list[Json], context: Context) -> Json:
    """A write's answer: the change was made, whatever `status` and `results` say."""
    if not context.verbose or context.has(Quirk.EMPTY_RESULTS):
        results = []
    status = "PENDING" if context.has(Quirk.PENDING) else _done(context)
    return _envelope(results, context, status=status)


def _done(context: Context) -> str:
    """The top-level status of a finished operation."""
    return "SUCCESS" if context.has(Quirk.SUCCESS_STATUS) else "COMPLETE"


def _envelope(results: list[Json], context: Context, *, status: str, verbose: bool | None = None) -> Json:
    shown_verbose = context.verbose if verbose is None else verbose
    return responses.envelope(results, context.started_at, status=status, verbose=shown_verbose)


def _subscriber_errors(
    subscribers: Iterable[str], config: SandboxConfig, *, location: str
) -> list[FieldError]:
    pattern = config.invalid_subscriber_pattern
    problems = ((subscriber, email_problem(subscriber, pattern)) for subscriber in subscribers)
    return [FieldError(problem, location, subscriber) for subscriber, problem in problems if problem]


def _distinct(subscribers: Iterable[str]) -> list[str]:
    """The first spelling of each subscriber, compared by `str.lower()` as HubSpot does."""
    first_spelling: dict[str, str] = {}
    for subscriber in subscribers:
        first_spelling.setdefault(subscriber_key(subscriber), subscriber)
    return list(first_spelling.values())
