"""Mints one-click links in bulk through a local REST API, as a producer would (`POST /one-click-links`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import urllib3

MINT_BATCH = 100  # addresses a call


def mint_links(http: urllib3.PoolManager, api_url: str, addresses: Sequence[str]) -> list[str]:
    """One link per address, in order."""
    urls: list[str] = []
    for start in range(0, len(addresses), MINT_BATCH):
        inputs = [{"subscriberIdString": address} for address in addresses[start : start + MINT_BATCH]]
        response = http.request(
            "POST",
            f"{api_url}/one-click-links",
            body=json.dumps({"inputs": inputs}).encode(),
            headers={"Content-Type": "application/json"},
        )
        if response.status != 200:
            raise RuntimeError(f"minting links answered {response.status}: {response.data[:200]!r}")
        urls += [result["url"] for result in json.loads(response.data)["results"]]
    return urls
