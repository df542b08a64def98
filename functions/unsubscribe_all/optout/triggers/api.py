"""The API Gateway trigger: this service's own routes and a HubSpot-compatible facade.

- `POST /unsubscribe-all` (body: the request object, optional `Idempotency-Key` header) and
  `GET /unsubscribe-all/{subscriberIdString}?businessUnitId=`;
- the facade `POST|GET /communication-preferences/{version}/statuses/{subscriberIdString}/unsubscribe-all`
  and `POST /communication-preferences/{version}/statuses/batch/unsubscribe-all`, with HubSpot's
  query parameters, bodies and answers, so a HubSpot client pointed here works unchanged, minus
  the token: the service holds it.

Every route goes through the service, so every one logs and counts its outcomes the same way.

Examples:
    >>> api = UnsubscribeApi(service, batch_size=100)  # doctest: +SKIP
    >>> api.handle(event, context)["statusCode"]  # doctest: +SKIP
    200
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from optout.aws.call_budget import CallBudget
from optout.deadline import Deadline
from optout.domain.addresses import InvalidEmailError, validate_email
from optout.domain.request import (
    InvalidRequestError,
    UnsubscribeRequest,
    idempotency_key_from,
    parse_unsubscribe_request,
)
from optout.domain.service import UnsubscribeService, WorkItem
from optout.observability import logger
from optout.outcomes import Outcome, Rejected, RetryLater, Unsubscribed, timestamp_now
from optout.triggers import api_input
from optout.triggers.api_errors import ApiError, error_for_rejection, error_for_retry
from optout.triggers.hubspot_answers import batch_answer, batch_error, single_answer, status_answer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from optout.triggers.one_click import OneClickRoutes

SAFETY_MARGIN_S = 1.0
# API Gateway answers 504 itself after 29 s, whatever the function's timeout: answer before it.
API_GATEWAY_TIMEOUT_S = 29.0
REPLAY_HEADER = "Idempotent-Replayed"
_FACADE = "/communication-preferences/<version>/statuses"


class InvocationResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, holding the event it answers on itself.

    Powertools keeps the current event and context on the `BaseRouter` class, shared by every
    resolver in the process. Lambda runs one invocation per process, but where environments share
    one (the local runners), a request could read another's headers, body or request id.
    """

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.current_event = APIGatewayProxyEvent(dict(event))
        self.lambda_context = context
        return super().resolve(event, context)


def request_deadline(context: LambdaContext) -> Deadline:
    """When a request's work must end: before the invocation's end and API Gateway's 29 s."""
    invocation = Deadline.for_invocation(context, SAFETY_MARGIN_S)
    return min(invocation, Deadline.after(API_GATEWAY_TIMEOUT_S - SAFETY_MARGIN_S), key=Deadline.remaining)


class UnsubscribeApi:
    def __init__(
        self,
        service: UnsubscribeService,
        *,
        batch_size: int,
        budget: CallBudget | None = None,
        one_click: OneClickRoutes | None = None,
    ) -> None:
        self._service = service
        self._batch_size = batch_size
        self._budget = budget or CallBudget()
        self.resolver = InvocationResolver()
        self._register()
        if one_click is not None:
            one_click.register(self.resolver)

    def handle(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Answers one request; its AWS calls (idempotency store, token) end by its deadline."""
        self._budget.start_invocation(request_deadline(context))
        return self.resolver.resolve(event, context)

    def _register(self) -> None:
        resolver = self.resolver
        # Registration order is matching order: the batch route before the per-subscriber one.
        resolver.post(f"{_FACADE}/batch/unsubscribe-all")(self._facade_batch)
        resolver.post(f"{_FACADE}/<subscriber>/unsubscribe-all")(self._facade_unsubscribe)
        resolver.get(f"{_FACADE}/<subscriber>/unsubscribe-all")(self._facade_status)
        resolver.post("/unsubscribe-all")(self._unsubscribe)
        resolver.get("/unsubscribe-all/<subscriber>")(self._status)
        resolver.exception_handler(ApiError)(self._error_response)
        resolver.exception_handler(InvalidRequestError)(
            lambda error: self._error_response(ApiError.from_invalid_request(error))
        )
        resolver.not_found(self._not_found)
        resolver.exception_handler(Exception)(self._unexpected)

    @property
    def _event(self) -> APIGatewayProxyEvent:
        return self.resolver.current_event

    def _correlation_id(self) -> str:
        return str(self._event.request_context.request_id or "-")

    def _query(self) -> Mapping[str, str]:
        return self._event.query_string_parameters or {}

    def _deadline(self) -> Deadline:
        return request_deadline(self.resolver.lambda_context)

    def _error_response(self, error: ApiError) -> Response[Any]:
        return error.response(self._correlation_id())

    def _not_found(self, _: NotFoundError) -> Response[Any]:
        return ApiError(HTTPStatus.NOT_FOUND, "OBJECT_NOT_FOUND", "no such route").response(
            self._correlation_id()
        )

    def _unexpected(self, error: Exception) -> Response[Any]:
        logger.exception("unexpected error answering an API request", error=type(error).__name__)
        return ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "unexpected error").response(
            self._correlation_id()
        )

    # Own routes

    def _unsubscribe(self) -> Response[Any]:
        request = parse_unsubscribe_request(api_input.json_body(self._event))
        return self._unsubscribe_once(request)

    def _status(self, subscriber: str) -> Response[Any]:
        query = self._query()
        return self._read_status(
            api_input.subscriber_from_path(subscriber), api_input.business_unit_id(query), verbose=True
        )

    # HubSpot-compatible facade

    def _facade_unsubscribe(self, version: str, subscriber: str) -> Response[Any]:
        query = api_input.facade_query(version, self._query())
        request = UnsubscribeRequest(
            api_input.subscriber_from_path(subscriber),
            api_input.business_unit_id(query),
            api_input.verbose(query),
        )
        return self._unsubscribe_once(request)

    def _facade_status(self, version: str, subscriber: str) -> Response[Any]:
        query = api_input.facade_query(version, self._query())
        return self._read_status(
            api_input.subscriber_from_path(subscriber),
            api_input.business_unit_id(query),
            api_input.verbose(query),
        )

    def _facade_batch(self, version: str) -> Response[Any]:
        query = api_input.facade_query(version, self._query())
        inputs = api_input.batch_inputs(api_input.json_body(self._event), self._batch_size)
        business_unit_id, verbose = api_input.business_unit_id(query), api_input.verbose(query)
        items: list[WorkItem] = []
        invalid: list[dict[str, Any]] = []
        for subscriber in inputs:
            try:
                request = UnsubscribeRequest(validate_email(subscriber), business_unit_id, verbose)
            except InvalidEmailError as error:
                invalid.append(
                    batch_error("VALIDATION_ERROR", f"not a valid email address: {error}", subscriber)
                )
                continue
            # HubSpot's batch call has no idempotency key: each input is carried out as asked.
            items.append(WorkItem(request, identity=None, correlation_id=self._correlation_id()))
        outcomes = self._service.unsubscribe_many(items, self._deadline())
        done = [outcome for outcome in outcomes if isinstance(outcome, Unsubscribed)]
        failed = [
            (item.request.subscriber, outcome)
            for item, outcome in zip(items, outcomes, strict=True)
            if not isinstance(outcome, Unsubscribed)
        ]
        retryable = [outcome for _, outcome in failed if isinstance(outcome, RetryLater)]
        if not done and not invalid and retryable and len(retryable) == len(failed):
            raise error_for_retry(retryable[0])
        # HubSpot's contract for this call: 200, with any per-input errors inside (never 207).
        body = batch_answer(done, failed, invalid, verbose=verbose, now=timestamp_now())
        return Response(HTTPStatus.OK, content_types.APPLICATION_JSON, body)

    # Shared steps

    def _identity(self, request: UnsubscribeRequest) -> str:
        header = self._event.headers.get("Idempotency-Key")
        if header is not None and request.idempotency_key is not None and header != request.idempotency_key:
            raise ApiError.invalid("the Idempotency-Key header and idempotencyKey differ", "Idempotency-Key")
        key = (
            idempotency_key_from(header, "Idempotency-Key") if header is not None else request.idempotency_key
        )
        return f"key:{key}" if key is not None else f"api-request:{self._correlation_id()}"

    def _unsubscribe_once(self, request: UnsubscribeRequest) -> Response[Any]:
        item = WorkItem(request, self._identity(request), correlation_id=self._correlation_id())
        return _response_for(self._service.unsubscribe(item, self._deadline()), verbose=request.verbose)

    def _read_status(self, subscriber: str, business_unit_id: int | None, verbose: bool) -> Response[Any]:
        status = self._service.read_status(subscriber, business_unit_id, self._deadline())
        if isinstance(status, RetryLater):
            raise error_for_retry(status)
        if isinstance(status, Rejected):
            raise ApiError.invalid(status.message)
        body = status_answer(status, verbose=verbose, now=timestamp_now())
        return Response(HTTPStatus.OK, content_types.APPLICATION_JSON, body)


def _response_for(outcome: Outcome, *, verbose: bool) -> Response[Any]:
    if isinstance(outcome, RetryLater):
        raise error_for_retry(outcome)
    if isinstance(outcome, Rejected):
        raise error_for_rejection(outcome)
    headers = {REPLAY_HEADER: "true"} if outcome.replayed else None
    body = single_answer(outcome, verbose=verbose)
    return Response(HTTPStatus.OK, content_types.APPLICATION_JSON, body, headers)
