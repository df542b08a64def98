"""Every kind of answer the one-click routes give is what openapi.yaml says: status, media type, headers.

The harness checks each answer's status, headers and JSON body (`function_harness.invoke`); these
tests make one answer of every kind, and check besides that its media type is the documented one
(HTML for the link's own pages).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from local.runners.api_contract import AnswerContract, proxy_answer
from tests.contract import JSON_MEDIA_TYPE, openapi_document
from tests.integration.one_click_support import (
    LINK_ROUTE,
    MINT_ROUTE,
    MULTIPART,
    MULTIPART_BODY,
    click,
    header,
    mint,
    mint_response,
    open_page,
    plaintext,
    rebuilt,
    refusing_endpoint,
    seal,
    token_of,
)

DOCUMENT = openapi_document()


def documented_media_types(method: str, route: str, status: int) -> set[str]:
    response = DOCUMENT["paths"][route][method.lower()]["responses"][str(status)]
    if "$ref" in response:
        response = DOCUMENT["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return set(response.get("content", {}))


def checked(method: str, route: str, response: Mapping[str, Any]) -> None:
    media_type = (header(response, "Content-Type") or "").split(";", 1)[0]
    event = {"httpMethod": method, "resource": route, "pathParameters": None}
    assert AnswerContract.load().problems(proxy_answer(event, response)) == []
    assert media_type in documented_media_types(method, route, response["statusCode"])
    if media_type == JSON_MEDIA_TYPE:
        json.loads(response["body"])


def _stale_token(_: str) -> str:
    return "A" * 40


ANSWERS: dict[str, tuple[str, str, Callable[[str], dict[str, Any]], int]] = {
    "minted": ("POST", MINT_ROUTE, lambda _: mint_response([{"subscriberIdString": "c@example.com"}]), 200),
    "mint refused": ("POST", MINT_ROUTE, lambda _: mint_response([{"subscriberIdString": "c"}]), 400),
    "page": ("GET", LINK_ROUTE, open_page, 200),
    "page of no link": ("GET", LINK_ROUTE, lambda token: open_page(_stale_token(token)), 404),
    "clicked": ("POST", LINK_ROUTE, lambda token: click(token, MULTIPART_BODY, MULTIPART), 200),
    "not one-click": ("POST", LINK_ROUTE, lambda token: click(token, "x=y"), 400),
    "too large": ("POST", LINK_ROUTE, lambda token: click(token, "x" * 4000), 413),
    "click on no link": ("POST", LINK_ROUTE, lambda token: click(_stale_token(token)), 404),
}


@pytest.mark.parametrize(("method", "route", "make", "status"), ANSWERS.values(), ids=ANSWERS.keys())
def test_each_answer_of_the_one_click_routes_is_documented(function_stack, method, route, make, status):
    # Given a link, when a request of this kind is made
    response = make(token_of(mint("contract@example.com")))
    # Then its answer is the documented one
    assert response["statusCode"] == status
    checked(method, route, response)


def test_the_answers_of_an_expired_link_and_of_a_stack_that_cannot_are_documented(
    function_stack, monkeypatch
):
    # Given an expired link
    token = seal(function_stack, plaintext("old@example.com", issued_at=0))
    # When it is opened and clicked, then both answers are the documented 410
    for method, response in (("GET", open_page(token)), ("POST", click(token))):
        assert response["statusCode"] == 410
        checked(method, LINK_ROUTE, response)
    # And when KMS cannot be reached, the link's and minting's 503s are documented too
    rebuilt(monkeypatch, AWS_ENDPOINT_URL_KMS=refusing_endpoint())
    for method, route, response in (
        ("GET", LINK_ROUTE, open_page(token)),
        ("POST", LINK_ROUTE, click(token)),
        ("POST", MINT_ROUTE, mint_response([{"subscriberIdString": "c@example.com"}])),
    ):
        assert response["statusCode"] == 503
        checked(method, route, response)
