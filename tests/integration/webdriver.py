"""Headless Chromium driven over the W3C WebDriver protocol (chromedriver's HTTP API), with urllib3.

Small on purpose: a session, navigation, finding elements by CSS selector, their text and computed
style, clicking, the cookies, and waiting for a condition. Debian's `chromium` and
`chromium-driver` packages provide the browser and the driver; `BROWSER_MISSING` says why a test
cannot run where they are absent. Chromium starts with a new empty profile and its background
connections off (a closed network refuses them, and they would slow every start).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import urllib3

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
CHROMIUM_ARGUMENTS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
START_TIMEOUT_S = 30.0
T = TypeVar("T")


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not missing:
        return None
    return (
        f"{' and '.join(missing)} not found: install Debian's chromium and chromium-driver "
        "(apt-get install -y chromium chromium-driver; .ci/run does) to run the browser tests"
    )


class WebDriverError(Exception):
    """chromedriver answered a command with an error."""


class Browser:
    def __init__(self, driver_url: str, http: urllib3.PoolManager, session_id: str) -> None:
        self._base = f"{driver_url}/session/{session_id}"
        self._http = http

    def _command(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        return _call(self._http, method, f"{self._base}{path}", payload)

    def open(self, url: str) -> None:
        self._command("POST", "/url", {"url": url})

    def url(self) -> str:
        return str(self._command("GET", "/url"))

    def title(self) -> str:
        return str(self._command("GET", "/title"))

    def find(self, selector: str) -> str:
        """The element's reference (NoSuchElement raises WebDriverError)."""
        found = self._command("POST", "/element", {"using": "css selector", "value": selector})
        return str(found[ELEMENT])

    def count(self, selector: str) -> int:
        return len(self._command("POST", "/elements", {"using": "css selector", "value": selector}))

    def text(self, selector: str) -> str:
        return str(self._command("GET", f"/element/{self.find(selector)}/text"))

    def css(self, selector: str, name: str) -> str:
        return str(self._command("GET", f"/element/{self.find(selector)}/css/{name}"))

    def attribute(self, selector: str, name: str) -> str | None:
        value = self._command("GET", f"/element/{self.find(selector)}/attribute/{name}")
        return None if value is None else str(value)

    def click(self, selector: str) -> None:
        self._command("POST", f"/element/{self.find(selector)}/click", {})

    def cookies(self) -> list[dict[str, Any]]:
        cookies: list[dict[str, Any]] = self._command("GET", "/cookie")
        return cookies

    def source(self) -> str:
        return str(self._command("GET", "/source"))

    def wait_for(self, condition: Callable[[], T | None], timeout_s: float = 15.0) -> T:
        """The condition's first truthy value, polled until the timeout (WebDriverError counts as not yet)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                value = condition()
            except WebDriverError:
                value = None
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the page did not get there within {timeout_s} s")
            time.sleep(0.05)


def _call(http: urllib3.PoolManager, method: str, url: str, payload: dict[str, Any] | None = None) -> Any:
    body = None if payload is None else json.dumps(payload).encode()
    response = http.request(method, url, body=body, headers={"Content-Type": "application/json"})
    answer = json.loads(response.data or b"{}")
    value = answer.get("value")
    if response.status != 200:
        error = value.get("error") if isinstance(value, dict) else None
        message = value.get("message", "")[:300] if isinstance(value, dict) else ""
        raise WebDriverError(f"{method} {url.rsplit('/session/', 1)[-1]}: {error}: {message}")
    return value


@contextmanager
def chromium(profile_dir: Path, port: int) -> Iterator[Browser]:
    """chromedriver on `port`, and a headless Chromium session with a new profile in `profile_dir`."""
    driver = subprocess.Popen(
        [str(CHROMEDRIVER), f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    driver_url = f"http://127.0.0.1:{port}"
    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2.0, read=60.0), retries=False)
    session_id: str | None = None
    try:
        _wait_until_ready(http, driver_url)
        capabilities = {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": str(CHROMIUM),
                "args": [*CHROMIUM_ARGUMENTS, f"--user-data-dir={profile_dir}"],
            },
        }
        created = _call(
            http, "POST", f"{driver_url}/session", {"capabilities": {"alwaysMatch": capabilities}}
        )
        session_id = str(created["sessionId"])
        yield Browser(driver_url, http, session_id)
    finally:
        if session_id is not None:
            _call(http, "DELETE", f"{driver_url}/session/{session_id}")
        driver.terminate()
        driver.wait(10)


def _wait_until_ready(http: urllib3.PoolManager, driver_url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if _call(http, "GET", f"{driver_url}/status").get("ready"):
                return
        except (urllib3.exceptions.HTTPError, WebDriverError, ValueError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"chromedriver was not ready within {START_TIMEOUT_S} s")
