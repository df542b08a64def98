"""`unsubscribe-all link EMAIL`: the installed command against the local API, the URL first on stdout."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.integration.one_click_support import served
from tests.integration.test_cli_support import write_local_state

CLI = Path(sys.executable).with_name("unsubscribe-all")


def run_cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *arguments], capture_output=True, text=True, timeout=60, check=False)


def test_link_prints_the_url_first_then_the_mail_headers_and_the_url_opens_the_page(
    *, function_stack, function_definition, lambda_invoker, moto_endpoint, tmp_path
):
    # Given the function behind the local API (the CLI's signed request is checked against
    # OperatorPolicy when the test ends)
    with served(function_stack, function_definition, lambda_invoker, moto_endpoint.calls) as service:
        state = write_local_state(
            tmp_path, moto_endpoint.url, function_stack.resources, api_url=service.api_url
        )

        # When the operator asks for a link
        finished = run_cli(
            "link", "Jane.Doe@example.com", "--business-unit", "7", "--local-state", str(state)
        )

        # Then the first line of stdout is the link, then the two headers of RFC 8058, and nothing
        # printed holds the address
        assert finished.returncode == 0, finished.stderr
        url, *headers = finished.stdout.splitlines()
        assert re.fullmatch(re.escape(service.api_url) + r"/one-click/[A-Za-z0-9_-]{16,}", url)
        assert headers == [f"List-Unsubscribe: <{url}>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
        assert "jane.doe" not in (finished.stdout + finished.stderr).lower()
        assert "the link works until" in finished.stderr
        # And the link opens its page over HTTP, naming the masked address
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - the loopback API
            assert response.status == 200
            assert "J***@example.com" in response.read().decode()

        # And with --json, stdout is one document holding a new link and its headers
        as_json = run_cli("link", "jane.doe@example.com", "--json", "--local-state", str(state))
        assert as_json.returncode == 0, as_json.stderr
        document = json.loads(as_json.stdout)
        assert document["command"] == "link"
        assert document["url"].startswith(f"{service.api_url}/one-click/")
        assert document["url"] != url
        assert document["headers"]["List-Unsubscribe"] == f"<{document['url']}>"
        assert document["expiresAt"].endswith("Z")


def test_link_refuses_an_invalid_address_before_calling_anything(tmp_path):
    finished = run_cli("link", "not an address", "--api-url", "http://127.0.0.1:9")
    assert finished.returncode == 2
    assert "not an email address" in finished.stderr
    assert finished.stdout == ""
