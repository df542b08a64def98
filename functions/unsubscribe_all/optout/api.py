"""The API Gateway trigger: this service's own routes and a HubSpot-compatible facade.

- `POST /unsubscribe-all` (body: the request object, optional `Idempotency-Key` header) and
  `GET /unsubscribe-all/{subscriberIdString}?businessUnitId=`;
- the facade `POST|GET /communication-preferences/{version}/statuses/{subscriberIdString}/unsubscribe-all`
  and `POST /communication-preferences/{version}/statuses/batch/unsubscribe-all`, with HubSpot's
  query parameters, bodies and answers, so a HubSpot client pointed here works unchanged, minus
  the token: the service holds it.

REST APIs pass the path still percent-encoded, so a subscriber segment is decoded here, once.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from optout.api_errors import ApiError, error_for_rejection, error_for_retry
from optout.deadline import Deadline
from optout.email_address import InvalidEmailError, validate_email
from optout.hubspot.errors import HubSpotError
from optout.message_body import decode_json
from optout.observability import logger
from optout.outcome_report import report
from optout.runtime import Runtime
from optout.stored_outcome import replayed_response_body
from optout.unsubscribe_request import (
    MAX_BUSINESS_UNIT_ID,
    InvalidRequestError,
    UnsubscribeRequest,
    parse_unsubscribe_request,
)
from optout.unsubscribe_service import Rejected, RetryLater, Succeeded, WorkItem, retry_later

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

MAX_BODY_BYTES = 16 * 1024
SAFETY_MARGIN_S = 1.0
# API Gateway answers 504 itself after 29 s, whatever the function's timeout: answer before it.
API_GATEWAY_TIMEOUT_S = 29.0
REPLAY_HEADER = "Idempotent-Replayed"
_VERSION = re.compile(r"v4|\d{4}-\d{2}")
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


class UnsubscribeApi:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.resolver = InvocationResolver()
        self._register()

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

    def _correlation_id(self) -> str:
        return str(self.resolver.current_event.request_context.request_id or "-")

    def _deadline(self) -> Deadline:
        invocation = Deadline.for_invocation(self.resolver.lambda_context, SAFETY_MARGIN_S)
        return min(
            invocation, Deadline.after(API_GATEWAY_TIMEOUT_S - SAFETY_MARGIN_S), key=Deadline.remaining
        )

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
        request = parse_unsubscribe_request(self._json_body())
        return self._unsubscribe_idempotently(request)

    def _status(self, subscriber: str) -> Response[Any]:
        query = self.resolver.current_event.query_string_parameters or {}
        return self._read_status(_subscriber_from_path(subscriber), _business_unit_id(query), verbose=False)

    # HubSpot-compatible facade

    def _facade_unsubscribe(self, version: str, subscriber: str) -> Response[Any]:
        query = _facade_query(version, self.resolver.current_event.query_string_parameters or {})
        request = UnsubscribeRequest(
            _subscriber_from_path(subscriber), _business_unit_id(query), _verbose(query)
        )
        return self._unsubscribe_idempotently(request)

    def _facade_status(self, version: str, subscriber: str) -> Response[Any]:
        query = _facade_query(version, self.resolver.current_event.query_string_parameters or {})
        return self._read_status(_subscriber_from_path(subscriber), _business_unit_id(query), _verbose(query))

    def _facade_batch(self, version: str) -> Response[Any]:
        query = _facade_query(version, self.resolver.current_event.query_string_parameters or {})
        inputs = _batch_inputs(self._json_body(), self._runtime.settings.hubspot.batch_size)
        business_unit_id, verbose = _business_unit_id(query), _verbose(query)
        valid: list[UnsubscribeRequest] = []
        errors: list[dict[str, Any]] = []
        for subscriber in inputs:
            try:
                valid.append(UnsubscribeRequest(validate_email(subscriber), business_unit_id, verbose))
            except InvalidEmailError as error:
                errors.append(
                    _batch_error("VALIDATION_ERROR", f"not a valid email address: {error}", subscriber)
                )
        outcomes = self._runtime.unsubscriber.unsubscribe_many(valid, self._deadline())
        results: list[Mapping[str, Any]] = []
        retryable: list[RetryLater] = []
        for request in valid:
            outcome = outcomes[request.target]
            if isinstance(outcome, HubSpotError):
                retryable += [retry_later(outcome)] if outcome.retryable else []
                category = outcome.category or outcome.kind.upper()
                errors.append(_batch_error(category, outcome.message, request.subscriber))
            else:
                results.append({"subscriberIdString": request.subscriber, "statuses": outcome.status_entries})
        if not results and retryable and len(retryable) == len(errors):
            raise error_for_retry(retryable[0])
        body: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if errors:
            body |= {"errors": errors, "numErrors": len(errors)}
        status = HTTPStatus.MULTI_STATUS if errors else HTTPStatus.OK
        return Response(status, content_types.APPLICATION_JSON, body)

    # Shared steps

    def _json_body(self) -> Any:
        event = self.resolver.current_event
        body = event.body or ""
        if event.is_base64_encoded:
            try:
                body = base64.b64decode(body, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise ApiError.invalid("the body is not valid base64-encoded UTF-8", "body") from None
        if len(body.encode("utf-8", errors="surrogatepass")) > MAX_BODY_BYTES:
            raise ApiError.invalid(f"the body is larger than {MAX_BODY_BYTES} bytes", "body")
        return decode_json(body)

    def _identity(self, request: UnsubscribeRequest) -> str:
        header = self.resolver.current_event.headers.get("Idempotency-Key")
        if header is not None and request.idempotency_key is not None and header != request.idempotency_key:
            raise ApiError.invalid("the Idempotency-Key header and idempotencyKey differ", "Idempotency-Key")
        key = header if header is not None else request.idempotency_key
        if key is not None:
            if not key.strip() or len(key) > 256 or not key.isprintable():
                raise ApiError.invalid(
                    "Idempotency-Key must be 1 to 256 printable characters", "Idempotency-Key"
                )
            return f"key:{key}"
        return f"api-request:{self._correlation_id()}"

    def _unsubscribe_idempotently(self, request: UnsubscribeRequest) -> Response[Any]:
        identity = self._identity(request)
        result = self._runtime.service.unsubscribe(WorkItem(request, identity), self._deadline())
        report(
            self._runtime.metrics,
            result,
            correlation_id=self._correlation_id(),
            subscriber=request.subscriber,
        )
        if isinstance(result, RetryLater):
            raise error_for_retry(result)
        if isinstance(result, Rejected):
            raise error_for_rejection(result)
        return _success(result, request.subscriber)

    def _read_status(self, subscriber: str, business_unit_id: int | None, verbose: bool) -> Response[Any]:
        try:
            status = self._runtime.hubspot.unsubscribe_all_status(
                subscriber, business_unit_id=business_unit_id, verbose=verbose, deadline=self._deadline()
            )
        except HubSpotError as error:
            if error.retryable:
                raise error_for_retry(retry_later(error)) from None
            raise ApiError.invalid(error.message) from None
        return Response(HTTPStatus.OK, content_types.APPLICATION_JSON, dict(status.body))


def _success(result: Succeeded, subscriber: str) -> Response[Any]:
    if result.result is not None:
        return Response(HTTPStatus.OK, content_types.APPLICATION_JSON, dict(result.result.body))
    body = replayed_response_body(result.stored, subscriber)
    return Response(HTTPStatus.OK, content_types.APPLICATION_JSON, body, {REPLAY_HEADER: "true"})


def _subscriber_from_path(segment: str) -> str:
    try:
        return validate_email(unquote(segment, errors="strict"))
    except InvalidEmailError as error:
        raise ApiError.invalid(
            f"subscriberIdString is not a valid email address: {error}", "subscriberIdString"
        ) from None
    except UnicodeDecodeError:
        raise ApiError.invalid(
            "subscriberIdString is not valid percent-encoded UTF-8", "subscriberIdString"
        ) from None


def _facade_query(version: str, query: Mapping[str, str]) -> Mapping[str, str]:
    if not _VERSION.fullmatch(version):
        raise ApiError(HTTPStatus.NOT_FOUND, "OBJECT_NOT_FOUND", "unknown API version")
    if query.get("channel") != "EMAIL":
        raise ApiError.invalid("channel is required and must be EMAIL", "channel")
    return query


def _business_unit_id(query: Mapping[str, str]) -> int | None:
    value = query.get("businessUnitId")
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_BUSINESS_UNIT_ID:
        raise ApiError.invalid(
            f"businessUnitId must be an integer from 0 to {MAX_BUSINESS_UNIT_ID}", "businessUnitId"
        )
    return int(value)


def _verbose(query: Mapping[str, str]) -> bool:
    value = query.get("verbose", "false").lower()
    if value not in {"true", "false"}:
        raise ApiError.invalid("verbose must be true or false", "verbose")
    return value == "true"


def _batch_inputs(body: Any, limit: int) -> list[str]:
    inputs = body.get("inputs") if isinstance(body, Mapping) else None
    if not isinstance(inputs, list) or not all(isinstance(item, str) for item in inputs):
        raise ApiError.invalid('the body must be {"inputs": [email, ...]}', "inputs")
    if not inputs or len(inputs) > limit:
        raise ApiError.invalid(f"inputs must hold 1 to {limit} addresses", "inputs")
    return inputs


def _batch_error(category: str, message: str, subscriber: str) -> dict[str, Any]:
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": {"subscriberIdString": [subscriber]},
        "errors": [],
        "links": {},
    }
