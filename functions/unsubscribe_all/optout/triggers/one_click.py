"""The one-click routes: minting links (IAM-signed), and the link itself (no credentials, RFC 8058).

- `POST /one-click-links`: one link per input (see `one_click_minting`), JSON like the other routes.
- `GET /one-click/{token}`: the page naming the masked address, with one button; changes nothing.
- `POST /one-click/{token}` with `List-Unsubscribe=One-Click`: queues the opt-out and answers 200
  with a confirmation page, never a redirect (RFC 8058 section 3.1).

A token that is not one of this stack's links is 404 (410 once expired) and queues nothing; when
KMS or the queue cannot be reached the answer is 503 with `Retry-After`. No answer depends on
HubSpot: a click is answered once its opt-out is on the queue. Metrics: `OneClickLinksMinted`,
`OneClickPagesShown`, `OneClickClicks`, `OneClickQueued`, `OneClickRefused` (dimension `reason`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from optout.domain.one_click import (
    LinkRefusedError,
    LinkSubject,
    LinksUnavailableError,
    OneClickLinks,
    token_bytes,
)
from optout.masking import mask_email
from optout.observability import MetricsRecorder, logger
from optout.triggers import api_input
from optout.triggers.api_errors import ApiError
from optout.triggers.one_click_form import BodyTooLargeError, body_bytes, says_one_click
from optout.triggers.one_click_minting import MINT_ROUTE, link_base, link_requests, minted_answer
from optout.triggers.one_click_pages import (
    Page,
    confirm_page,
    done_page,
    not_one_click_page,
    refused_page,
    retry_after,
    unavailable_page,
)

LINK_ROUTE = "/one-click/<token>"
# KMS Encrypt takes one plaintext a call: a batch's links are sealed a few at a time.
MINT_THREADS = 8
REFUSED_METRIC = "OneClickRefused"
NOT_ONE_CLICK = "NOT_ONE_CLICK"
TOO_LARGE = "TOO_LARGE"


class OneClickRoutes:
    def __init__(
        self,
        links: OneClickLinks | None,
        *,
        domain_name: str | None,
        batch_size: int,
        metrics: MetricsRecorder | None = None,
    ) -> None:
        self._links = links
        self._domain_name = domain_name
        self._batch_size = batch_size
        self._metrics = metrics or MetricsRecorder()
        self._resolver: APIGatewayRestResolver | None = None

    def register(self, resolver: APIGatewayRestResolver) -> None:
        self._resolver = resolver
        resolver.post(MINT_ROUTE)(self._mint)
        resolver.get(LINK_ROUTE)(self._page)
        resolver.post(LINK_ROUTE)(self._click)

    @property
    def _event(self) -> APIGatewayProxyEvent:
        if self._resolver is None:
            raise RuntimeError("OneClickRoutes.register was not called")
        return self._resolver.current_event

    def _configured(self) -> OneClickLinks:
        if self._links is None:
            raise LinksUnavailableError("one-click links are not configured (no key or queue)")
        return self._links

    # POST /one-click-links (IAM-signed)

    def _mint(self) -> Response[Any]:
        requests = link_requests(api_input.json_body(self._event), self._batch_size)
        base = link_base(self._event, self._domain_name)
        try:
            links = self._configured()
            with ThreadPoolExecutor(max_workers=min(MINT_THREADS, len(requests))) as pool:
                minted = list(
                    pool.map(
                        lambda request: links.mint(request.subscriber, request.business_unit_id), requests
                    )
                )
        except LinksUnavailableError:
            raise ApiError(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "KEY_UNAVAILABLE",
                "the links' KMS key cannot be used now",
                headers=retry_after(),
            ) from None
        self._metrics.count("OneClickLinksMinted", len(minted))
        return Response(HTTPStatus.OK, content_types.APPLICATION_JSON, minted_answer(base, minted))

    # GET and POST /one-click/{token} (no credentials)

    def _page(self, token: str) -> Response[Any]:
        try:
            subject = self._configured().read(token)
        except LinkRefusedError as error:
            return self._refused(error.refusal.value, refused_page(error.refusal))
        except LinksUnavailableError:
            return unavailable_page().response(retry_after())
        self._metrics.count("OneClickPagesShown")
        return confirm_page(_masked(subject), token).response()

    def _click(self, token: str) -> Response[Any]:
        self._metrics.count("OneClickClicks")
        try:
            token_bytes(token)  # the shape first: a page that links back must link to a token
            if not says_one_click(self._event.headers.get("Content-Type"), body_bytes(self._event)):
                return self._refused(NOT_ONE_CLICK, not_one_click_page(token))
            click = self._configured().click(token)
        except BodyTooLargeError:
            return self._refused(TOO_LARGE, not_one_click_page(token, HTTPStatus.REQUEST_ENTITY_TOO_LARGE))
        except LinkRefusedError as error:
            return self._refused(error.refusal.value, refused_page(error.refusal))
        except LinksUnavailableError:
            return unavailable_page().response(retry_after())
        self._metrics.count("OneClickQueued")
        logger.info(
            "one-click opt-out queued",
            subscriber=_masked(click.subject),
            business_unit_id=click.subject.business_unit_id,
            idempotency_key=click.idempotency_key[:24],
        )
        return done_page(_masked(click.subject)).response()

    def _refused(self, reason: str, page: Page) -> Response[Any]:
        self._metrics.count_by(REFUSED_METRIC, "reason", reason)
        logger.info("one-click request refused", reason=reason, status=int(page.status))
        return page.response()


def _masked(subject: LinkSubject) -> str:
    return mask_email(subject.subscriber)
