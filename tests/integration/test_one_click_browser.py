"""A person opens a one-click link in headless Chromium, presses the button, and is unsubscribed.

The function runs behind the local REST API and SQS event source, as with `make run`; the link
is minted over HTTP like a producer mints it. Skipped, saying why, where Debian's chromium and
chromium-driver are not installed (`.ci/run` installs them).
"""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest

from tests.integration.one_click_support import queue_depth, served
from tests.integration.webdriver import browser_missing, chromium

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")
DRAIN_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mint_over_http(api_url: str, address: str) -> str:
    request = urllib.request.Request(  # noqa: S310 - the loopback API
        f"{api_url}/one-click-links",
        data=json.dumps({"inputs": [{"subscriberIdString": address}]}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the loopback API
        url: str = json.loads(response.read())["results"][0]["url"]
    return url


def test_a_person_opens_the_link_presses_the_button_and_is_unsubscribed_while_opening_it_changes_nothing(
    *, function_stack, function_definition, lambda_invoker, moto_endpoint, tmp_path
):
    address = "robin.browser@example.com"
    with (
        served(function_stack, function_definition, lambda_invoker, moto_endpoint.calls) as service,
        chromium(tmp_path / "profile", free_port()) as browser,
    ):
        # Given a link minted for the address
        link = mint_over_http(service.api_url, address)

        # When a person opens it
        browser.open(link)

        # Then the page names the masked address, with its style allowed by the CSP, and one button
        assert browser.title() == "Unsubscribe from all email"
        assert browser.text("h1") == "Unsubscribe from all email"
        assert browser.text("main strong") == "r***@example.com"
        assert address not in browser.source()
        assert browser.count("form") == 1
        assert browser.count("button") == 1
        assert browser.count("script") == 0
        assert browser.css("button", "background-color") == "rgba(11, 87, 208, 1)"
        # And opening it changed nothing: nothing queued, HubSpot not called, no cookie set
        assert queue_depth(function_stack) == 0
        assert function_stack.hubspot.calls() == []
        assert browser.cookies() == []

        # When the person presses the button
        browser.click("button")

        # Then the confirmation is shown at the same URL (no redirect), naming the masked address
        browser.wait_for(lambda: browser.text("h1") == "You are unsubscribed")
        assert browser.url() == link
        assert "r***@example.com" in browser.text("main")
        assert browser.cookies() == []
        # And once the queue has drained, HubSpot holds the opt-out, done once
        assert service.event_source.wait_until_drained(DRAIN_TIMEOUT_S)
        assert function_stack.hubspot.successful_unsubscribes() == {address: 1}
        assert address in {
            opt_out["subscriberIdString"] for opt_out in function_stack.hubspot.state()["optOuts"]
        }
