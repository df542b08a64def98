"""One-click unsubscribe links (RFC 8058) through the real handler, on moto's KMS and SQS and the sandbox.

Minting (`POST /one-click-links`), the page (`GET /one-click/{token}`) and the click
(`POST /one-click/{token}`): what each answers, what reaches the queue, and what reaches HubSpot.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from optout.domain.one_click import token_text
from optout.masking import mask_email
from tests.conftest import FunctionStack
from tests.integration.function_harness import api_event, invoke
from tests.integration.one_click_support import (
    FORM,
    MULTIPART,
    MULTIPART_BODY,
    ONE_CLICK_BODY,
    ciphertext_of,
    click,
    drain,
    header,
    mint,
    mint_response,
    open_page,
    plaintext,
    queue_depth,
    rebuilt,
    refusing_endpoint,
    seal,
    token_of,
)

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def assert_html_page(response: dict[str, Any], status: int) -> str:
    assert response["statusCode"] == status, response["body"]
    assert header(response, "Content-Type") == "text/html; charset=utf-8"
    csp = header(response, "Content-Security-Policy") or ""
    assert "default-src 'none'" in csp
    assert "form-action 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert {name: header(response, name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    assert header(response, "Set-Cookie") is None
    assert header(response, "Location") is None
    body: str = response["body"]
    assert body.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in body
    assert "<script" not in body.lower()
    return body


# --- minting ---------------------------------------------------------------------------------------


def test_minting_answers_one_link_per_input_in_order_on_the_host_and_stage_it_was_called_on(function_stack):
    # Given three inputs, one with a business unit
    inputs: list[dict[str, Any]] = [
        {"subscriberIdString": "ana@example.com"},
        {"subscriberIdString": "bo@example.com", "businessUnitId": 7},
        {"subscriberIdString": "ana@example.com"},
    ]

    # When links are minted for them
    response = mint_response(inputs)

    # Then each gets its own link, in order, under the API's host and stage, with its mail headers
    assert response["statusCode"] == 200, response["body"]
    results = json.loads(response["body"])["results"]
    assert [r["subscriberIdString"] for r in results] == [i["subscriberIdString"] for i in inputs]
    assert [r.get("businessUnitId") for r in results] == [None, 7, None]
    urls = [r["url"] for r in results]
    assert len(set(urls)) == 3
    for result in results:
        assert re.fullmatch(
            r"https://a1b2c3d4e5\.execute-api\.us-east-1\.amazonaws\.com/api/one-click/[A-Za-z0-9_-]+",
            result["url"],
        )
        assert result["headers"] == {
            "List-Unsubscribe": f"<{result['url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        issued = time.mktime(time.strptime(result["issuedAt"], "%Y-%m-%dT%H:%M:%SZ"))
        expires = time.mktime(time.strptime(result["expiresAt"], "%Y-%m-%dT%H:%M:%SZ"))
        assert expires - issued == 1095 * 24 * 3600
    # And minting queues nothing and calls no one
    assert queue_depth(function_stack) == 0
    assert function_stack.hubspot.calls() == []


def test_with_a_custom_domain_the_links_name_it(function_stack, monkeypatch):
    # Given a stack whose links have a custom domain
    rebuilt(monkeypatch, ONE_CLICK_DOMAIN_NAME="Unsubscribe.Example.COM")

    # When a link is minted through the execute-api host
    url = mint("dee@example.com")

    # Then it names the custom domain, mapped at its root
    assert re.fullmatch(r"https://unsubscribe\.example\.com/one-click/[A-Za-z0-9_-]+", url)


@pytest.mark.parametrize(
    "address",
    ["Jane.Doe+News@Example.com", "o'hara@example.com", "straße.müller@bücher.example", "ab12@cd.example"],
)
def test_the_url_holds_no_form_of_the_address(function_stack, address):
    # Given a link minted for the address
    url = mint(address)
    token = token_of(url)

    # When the URL is searched for the address in every form a log could hold
    utf8 = address.encode()
    forms = {
        address,
        address.lower(),
        address.upper(),
        quote(address, safe=""),
        quote(address),
        quote_plus(address),
        address.split("@")[0],
        base64.b64encode(utf8).decode(),
        base64.b64encode(utf8).decode().rstrip("="),
        base64.urlsafe_b64encode(utf8).decode().rstrip("="),
        base64.b32encode(utf8).decode().rstrip("="),
        utf8.hex(),
    }
    # (a form of a few characters turns up in any random text)
    forms = {form.lower() for form in forms if len(form) >= 4}

    # Then none is in it, in any case, and the token's bytes do not hold the address either
    assert [form for form in forms if form in url.lower()] == []
    assert utf8 not in ciphertext_of(token)
    assert address.encode("utf-16-le") not in ciphertext_of(token)


def test_minting_refuses_every_bad_input_and_mints_nothing(function_stack):
    # Given inputs of which two are wrong
    inputs: list[dict[str, Any]] = [
        {"subscriberIdString": "good@example.com"},
        {"subscriberIdString": "not an address"},
        {"subscriberIdString": "fine@example.com", "businessUnitId": -1},
    ]

    # When links are asked for
    response = mint_response(inputs)

    # Then the request is refused, naming each bad field
    assert response["statusCode"] == 400
    body = json.loads(response["body"])
    assert body["category"] == "VALIDATION_ERROR"
    assert [error["in"] for error in body["errors"]] == [
        "inputs[1].subscriberIdString",
        "inputs[2].businessUnitId",
    ]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"inputs": []},
        {"inputs": "a@example.com"},
        {"inputs": [{"subscriberIdString": "a@example.com"}] * 101},
    ],
    ids=["no inputs", "empty", "not a list", "over the batch limit"],
)
def test_minting_needs_1_to_the_batch_limit_of_inputs(function_stack, body):
    response = invoke(api_event("POST", "/one-click-links", body=body))
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["errors"][0]["in"] == "inputs"


# --- the page (GET) --------------------------------------------------------------------------------


def test_the_page_names_the_masked_address_offers_one_button_and_changes_nothing(function_stack):
    # Given a link
    token = token_of(mint("jane.doe@example.com", 7))

    # When it is opened (as a person, a link scanner or a prefetch would)
    body = assert_html_page(open_page(token), 200)
    body_again = assert_html_page(open_page(token), 200)

    # Then it names the masked address only, and holds one form posting RFC 8058's field to itself
    assert "j***@example.com" in body
    assert "jane.doe" not in body
    assert body.count("<form") == 1
    assert f'<form method="post" action="{token}">' in body
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in body
    assert body.count("<button") == 1
    assert body == body_again
    # And nothing was queued, and HubSpot was never called
    assert queue_depth(function_stack) == 0
    assert function_stack.hubspot.calls() == []


@pytest.mark.parametrize(
    ("address", "shown"),
    [("&amp@example.com", "&amp;***@example.com"), ("'q@example.com", "&#x27;***@example.com")],
)
def test_the_page_escapes_the_address(function_stack, address, shown):
    # Given a link for an address whose first character is special in HTML
    token = token_of(mint(address))

    # When its page and its confirmation are rendered
    page = assert_html_page(open_page(token), 200)
    done = assert_html_page(click(token), 200)

    # Then the address is escaped in both
    assert f"<strong>{shown}</strong>" in page
    assert f"<strong>{shown}</strong>" in done
    assert mask_email(address) not in page


# --- the click (POST) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (ONE_CLICK_BODY, FORM),
        (ONE_CLICK_BODY, f"{FORM}; charset=UTF-8"),
        (MULTIPART_BODY, MULTIPART),
        (ONE_CLICK_BODY, None),
    ],
    ids=["form-encoded", "form-encoded with charset", "multipart", "no content type"],
)
def test_a_click_answers_200_without_redirect_and_queues_the_opt_out_under_the_links_identity(
    function_stack, body, content_type
):
    # Given a link
    url = mint("click@example.com", 3)
    token = token_of(url)

    # When a mailbox provider posts RFC 8058's body to it
    response = click(token, body, content_type)

    # Then it answers 200 with a confirmation (no redirect), before HubSpot is called
    page = assert_html_page(response, 200)
    assert "You are unsubscribed" in page
    assert "c***@example.com" in page
    assert function_stack.hubspot.calls() == []
    # And the queue holds the opt-out, keyed by the token, not by the address
    key = "one-click:" + hashlib.sha256(ciphertext_of(token)).hexdigest()
    assert drain(function_stack) == [
        {"subscriberIdString": "click@example.com", "businessUnitId": 3, "idempotencyKey": key}
    ]
    assert function_stack.hubspot.successful_unsubscribes() == {"click@example.com": 1}


def test_clicking_a_link_again_costs_no_second_hubspot_call(function_stack):
    # Given a link clicked once, and its opt-out carried out
    token = token_of(mint("twice@example.com"))
    assert click(token)["statusCode"] == 200
    drain(function_stack)

    # When it is clicked twice more (the provider and the page), and those are carried out in turn
    assert click(token, MULTIPART_BODY, MULTIPART)["statusCode"] == 200
    assert click(token)["statusCode"] == 200
    delivered = drain(function_stack)

    # Then both reached the queue, and HubSpot was asked once in all
    assert len(delivered) == 2
    unsubscribe_calls = [c for c in function_stack.hubspot.calls() if c.request.method == "POST"]
    assert len(unsubscribe_calls) == 1
    assert function_stack.hubspot.successful_unsubscribes() == {"twice@example.com": 1}


def test_two_links_for_one_address_are_two_opt_outs(function_stack):
    # Given two links minted for one address (two mails), each clicked
    first, second = token_of(mint("two@example.com")), token_of(mint("two@example.com"))
    click(first)
    click(second)

    # When their opt-outs are carried out
    bodies = drain(function_stack)

    # Then each is its own request (identity is never the address), and HubSpot holds the opt-out
    assert len({body["idempotencyKey"] for body in bodies}) == 2
    assert "two@example.com" in {o["subscriberIdString"] for o in function_stack.hubspot.state()["optOuts"]}


# --- refused tokens --------------------------------------------------------------------------------


def _flip(token: str, index: int) -> str:
    ciphertext = bytearray(ciphertext_of(token))
    ciphertext[index] ^= 0x01
    return token_text(bytes(ciphertext))


def _other_key(stack: FunctionStack) -> str:
    kms = stack.session.client("kms")
    return str(kms.create_key(Description=f"{stack.resources.stack_name}: another key")["KeyMetadata"]["Arn"])


REFUSED: dict[str, Any] = {
    "a byte flipped in the middle": lambda stack, token: _flip(token, len(ciphertext_of(token)) // 2),
    "a byte flipped at the end": lambda stack, token: _flip(token, -1),
    "cut short": lambda stack, token: token[: len(token) // 2],
    "one character less": lambda stack, token: token[:-1],
    "a character more": lambda stack, token: token + "A",
    "another key": lambda stack, token: seal(stack, plaintext(), key_id=_other_key(stack)),
    "another stack": lambda stack, token: seal(stack, plaintext(), stack="someone-elses-stack"),
    "another purpose": lambda stack, token: seal(stack, plaintext(), purpose="password-reset"),
    "not a link's plaintext": lambda stack, token: seal(stack, b'{"e":"victim@example.com"}'),
    "an invalid address inside": lambda stack, token: seal(stack, plaintext("not an address")),
    "not base64url": lambda stack, token: token.replace(token[5], "+", 1),
    "too short": lambda stack, token: "AAAA",
    "far too long": lambda stack, token: "A" * 5000,
}


@pytest.mark.parametrize("make", REFUSED.values(), ids=REFUSED.keys())
def test_a_token_this_stack_did_not_make_is_refused_and_nothing_is_queued(function_stack, capsys, make):
    # Given a genuine link, and a token made from it or beside it
    genuine = token_of(mint("victim@example.com"))
    token = make(function_stack, genuine)
    assert token != genuine

    # When the token is opened and clicked
    page, clicked = open_page(token), click(token)

    # Then both are refused with 404 (never a 500), and nothing reaches the queue or HubSpot
    for response in (page, clicked):
        body = assert_html_page(response, 404)
        assert "not valid" in body
        assert "@" not in body
    assert queue_depth(function_stack) == 0
    assert function_stack.hubspot.calls() == []
    # And each refusal is counted
    assert capsys.readouterr().out.count('"OneClickRefused"') >= 2


def test_an_expired_link_is_refused_with_410(function_stack):
    # Given a link made (with the stack's own key and context) longer ago than the maximum age
    issued = int(time.time()) - 1095 * 24 * 3600 - 60
    token = seal(function_stack, plaintext("old@example.com", issued))

    # When it is opened and clicked
    page, clicked = open_page(token), click(token)

    # Then both say it expired, and nothing is queued
    for response in (page, clicked):
        assert "expired" in assert_html_page(response, 410)
    assert queue_depth(function_stack) == 0


def test_a_link_just_within_its_age_still_works(function_stack):
    token = seal(function_stack, plaintext("recent@example.com", int(time.time()) - 1094 * 24 * 3600))
    assert assert_html_page(click(token), 200)
    assert [body["subscriberIdString"] for body in drain(function_stack)] == ["recent@example.com"]


# --- what a POST must say --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", FORM),
        ('{"List-Unsubscribe": "One-Click"}', "application/json"),
        ("List-Unsubscribe=Two-Click", FORM),
        ("unsubscribe=yes", FORM),
        (MULTIPART_BODY.replace("List-Unsubscribe", "Other-Field"), MULTIPART),
        (MULTIPART_BODY, "multipart/form-data; boundary=not-the-one"),
    ],
    ids=["empty", "JSON", "another value", "another field", "multipart without the field", "wrong boundary"],
)
def test_a_post_that_is_not_a_one_click_request_changes_nothing(function_stack, body, content_type):
    # Given a link
    token = token_of(mint("careful@example.com"))

    # When something else is posted to it
    response = click(token, body, content_type)

    # Then it is refused with 400 and a way back to the page, and nothing is queued
    page = assert_html_page(response, 400)
    assert f'<a href="{token}">' in page
    assert queue_depth(function_stack) == 0


def test_a_body_over_2_kib_is_refused_with_413(function_stack):
    token = token_of(mint("big@example.com"))
    response = click(token, ONE_CLICK_BODY + "&padding=" + "x" * 2100)
    assert_html_page(response, 413)
    assert queue_depth(function_stack) == 0


# --- when the stack cannot ---------------------------------------------------------------------------


def test_when_kms_cannot_be_reached_a_link_is_503_never_a_refusal(function_stack, monkeypatch):
    # Given a link, then a function whose KMS endpoint refuses connections
    token = token_of(mint("later@example.com"))
    rebuilt(monkeypatch, AWS_ENDPOINT_URL_KMS=refusing_endpoint())

    # When the link is opened, clicked, and another is asked for
    page, clicked = open_page(token), click(token)
    minted = mint_response([{"subscriberIdString": "later@example.com"}])

    # Then each answer says to try again later (the link is not called invalid), and nothing is queued
    for response in (page, clicked):
        assert "try again" in assert_html_page(response, 503).lower()
        assert header(response, "Retry-After") == "30"
    assert minted["statusCode"] == 503
    assert json.loads(minted["body"])["category"] == "KEY_UNAVAILABLE"
    assert queue_depth(function_stack) == 0


def test_a_queue_that_cannot_be_reached_is_503(function_stack):
    # Given a link, and then the function's queue gone
    token = token_of(mint("lost@example.com"))
    function_stack.session.client("sqs").delete_queue(QueueUrl=function_stack.resources.queue_url)

    # When it is clicked
    response = click(token)

    # Then the click is not confirmed: the provider or the person is told to try again
    assert "try again" in assert_html_page(response, 503).lower()


def test_a_provider_sending_lower_case_header_names_is_understood(function_stack):
    # Given a link, and a click as HTTP/2 clients send it (header names in lower case)
    token = token_of(mint("h2@example.com"))
    event = api_event(
        "POST", f"/one-click/{token}", body=MULTIPART_BODY, resource="/one-click/{token}", headers={}
    )
    event["headers"] = {"content-type": MULTIPART, "host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"}
    event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}

    # When it is posted, then it is a one-click request like any other
    assert assert_html_page(invoke(event), 200)
    assert [body["subscriberIdString"] for body in drain(function_stack)] == ["h2@example.com"]


def test_what_the_function_logs_of_links_holds_no_address(function_stack, function_logs):
    # Given a link minted, opened, clicked, refused and carried out
    token = token_of(mint("quiet.person@example.com"))
    open_page(token)
    click(token)
    click(token[:-2])
    drain(function_stack)

    # When the function's logs are read
    logs = function_logs.getvalue()

    # Then they tell what happened with the address masked, and never the address or the token
    assert "one-click opt-out queued" in logs
    assert "one-click request refused" in logs
    assert "q***@example.com" in logs
    assert "quiet.person" not in logs
    assert token not in logs
