"""Requests to an IAM-authorised API Gateway, signed with SigV4 by botocore, sent by urllib3.

The URL is signed exactly as it is sent: its path must already be percent-encoded (botocore
encodes it once more for the canonical request, as SigV4 asks of every service but S3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from operator_cli.errors import OperationError
from operator_cli.targets import USER_AGENT_APP_ID

SERVICE = "execute-api"
_EXECUTE_API_HOST = re.compile(r"[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?")
TIMEOUT = urllib3.Timeout(connect=5.0, read=30.0)
# Connection failures and resets only: a GET is safe to repeat; HTTP answers are the caller's.
RETRIES = urllib3.Retry(total=2, connect=2, read=1, status=0, backoff_factor=0.5, redirect=False)
# A POST is repeated only when it never reached the API (minting twice is harmless, but pointless).
POST_RETRIES = urllib3.Retry(total=2, connect=2, read=0, status=0, backoff_factor=0.5, redirect=False)


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    text: str


def region_of(url: str, default: str) -> str:
    """The region in an execute-api hostname, else `default` (a local or custom-domain API)."""
    match = _EXECUTE_API_HOST.fullmatch(urlsplit(url).hostname or "")
    return match.group(1) if match else default


def signed_get(
    url: str,
    credentials: ReadOnlyCredentials,
    region: str,
    *,
    http: urllib3.PoolManager | None = None,
) -> HttpAnswer:
    return signed_request("GET", url, credentials, region, http=http)


def signed_request(
    method: str,
    url: str,
    credentials: ReadOnlyCredentials,
    region: str,
    *,
    json_body: bytes | None = None,
    http: urllib3.PoolManager | None = None,
) -> HttpAnswer:
    """The request signed over its method, URL and body; a POST is sent once (no retries once sent)."""
    # The app id as botocore writes it in a User-Agent: CloudTrail and API Gateway's logs tell
    # the operator's requests by it.
    headers = {
        "Accept": "application/json",
        "User-Agent": f"unsubscribe-all/signed-{method.lower()} app/{USER_AGENT_APP_ID}",
    }
    if json_body is not None:
        headers["Content-Type"] = "application/json"
    request = AWSRequest(method=method, url=url, headers=headers, data=json_body)
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    pool = http or urllib3.PoolManager(timeout=TIMEOUT, retries=RETRIES if method == "GET" else POST_RETRIES)
    try:
        response = pool.request(
            method, url, body=json_body, headers=dict(request.headers.items()), redirect=False
        )
    except urllib3.exceptions.HTTPError as error:
        reason = getattr(error, "reason", None) or error
        raise OperationError(f"cannot reach the API at {urlsplit(url).netloc}: {reason}") from None
    return HttpAnswer(response.status, response.data.decode("utf-8", errors="replace"))
