"""A one-click unsubscribe's latency: RFC 8058's POST to a link, answered once the opt-out is queued.

What a mailbox provider waits for: the local REST API (as API Gateway) invokes the function warm,
which decrypts the token with KMS and sends the opt-out to SQS, both moto in a process of its
own. Links are minted first (`POST /one-click-links`, 100 a call), then each is clicked once, in
turn, over HTTP with a fresh connection as a provider's would be; the first click warms the
environment and is not counted. The page a `GET` shows is timed the same way, for the details.
HubSpot is not part of it: a click is answered before the queue carries it out.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import urllib3

from bench.context import Bench
from bench.report import Figure, Measured
from bench.stacks import environment_applied
from local.link_minting import mint_links
from local.runners.api_gateway import ApiGateway
from local.runners.lambda_invoker import LambdaInvoker

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ONE_CLICK_BODY = b"List-Unsubscribe=One-Click"


def _percentiles_ms(samples_s: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples_s, n=100, method="inclusive")
    return {
        "p50": round(statistics.median(samples_s) * 1000, 1),
        "p99": round(cuts[98] * 1000, 1),
        "max": round(max(samples_s) * 1000, 1),
    }


def _mint(http: urllib3.PoolManager, api_url: str, count: int) -> tuple[list[str], float]:
    """`count` links, and the seconds minting took per link."""
    started = time.perf_counter()
    urls = mint_links(http, api_url, [f"bench-click-{n}@example.com" for n in range(count)])
    return urls, (time.perf_counter() - started) / count


def _timed(method: str, url: str, **request: Any) -> float:
    # A connection of its own each time, as a mailbox provider's request arrives.
    with urllib3.PoolManager(retries=False) as http:
        started = time.perf_counter()
        response = http.request(method, url, **request)
        took = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"{method} of a link answered {response.status}")
    return took


def measure(bench: Bench) -> list[Figure]:
    clicks = bench.plan.one_click_clicks
    stack = bench.stack()
    with (
        environment_applied(stack.environment),
        urllib3.PoolManager(retries=False) as http,
    ):
        invoker = LambdaInvoker(stack.function)
        try:
            function = stack.function
            with ApiGateway(invoker, function.api_routes, function.api_stage, port=0) as api:
                urls, mint_s = _mint(http, api.url, clicks + 1)
                warm, *timed = urls
                _timed("POST", warm, body=ONE_CLICK_BODY, headers=FORM)
                pages = [_timed("GET", url) for url in timed]
                posts = [_timed("POST", url, body=ONE_CLICK_BODY, headers=FORM) for url in timed]
        finally:
            invoker.close()
    click_ms, page_ms = _percentiles_ms(posts), _percentiles_ms(pages)
    return [
        Figure(
            key="one_click_latency",
            title="one-click unsubscribe: a POST to a link answered (KMS decrypt, SQS send), p50 / p99",
            function=Measured(click_ms["p99"], f"{click_ms['p50']:.0f} ms / {click_ms['p99']:.0f} ms"),
            goal="reported",
            met=None,
            details={
                "clicks": len(posts),
                "click_ms": click_ms,
                "page_get_ms": page_ms,
                "mint_ms_per_link": round(mint_s * 1000, 1),
                "method": "each link clicked once, in turn, a new connection each; warm environment",
            },
        )
    ]
