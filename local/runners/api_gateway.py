"""The REST API, locally: an HTTP server that invokes the function with API Gateway proxy events.

Routes are the function's `Type: Api` events in template.yaml; anything else gets API Gateway's
403 `Missing Authentication Token`. A function that raises, times out, or answers something that
is not a proxy response gets 502 `Internal server error`; one still running when the integration
timeout (29 s unless lowered) ends gets 504. A body over API Gateway's 10 MB gets 413, a
Content-Length that is not a number 400, without invoking the function. Not emulated: IAM
authorisation (any caller is let in, as with `sam local start-api`), stage throttling.

Given a contract (openapi.yaml, see api_contract.py), every answer on a route is checked against
it; one that departs from it is replaced by a 500 of this runner's own (`x-local-contract-violation`),
which no caller accepts, and is named on stderr and in `contract_violations`.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.aws.call_log import AwsCall, CallLog, principal_of
from local.aws.moto_endpoint import REGION
from local.lifecycle import StartStop
from local.runners.api_contract import AnswerContract, ApiAnswer, decoded_body
from local.runners.api_routes import RouteMatch, RouteTable
from local.runners.function_definition import ApiRoute
from local.runners.lambda_invoker import InvocationStatus, LambdaInvoker
from local.runners.rest_api_event import HttpAnswer, HttpRequest, http_answer, proxy_event
from optout.whole_numbers import whole_number

DEFAULT_PORT = 3000
API_ID = "local-api"  # what stands for the REST API's id in execute-api ARNs
INTEGRATION_TIMEOUT_S = 29.0
# An idle or slow client cannot hold a request thread (and so a clean stop) for longer than this.
CLIENT_SOCKET_TIMEOUT_S = 10.0

MISSING_AUTHENTICATION_TOKEN = HttpAnswer.json(
    403,
    {"message": "Missing Authentication Token"},
    [("x-amzn-ErrorType", "MissingAuthenticationTokenException")],
)
INTERNAL_SERVER_ERROR = HttpAnswer.json(502, {"message": "Internal server error"})
ENDPOINT_TIMED_OUT = HttpAnswer.json(504, {"message": "Endpoint request timed out"})
CONTRACT_VIOLATION_HEADER = "x-local-contract-violation"
PAYLOAD_LIMIT_BYTES = 10 * 1024 * 1024
REQUEST_TOO_LONG = HttpAnswer.json(413, {"message": "Request Too Long"})
BAD_CONTENT_LENGTH = HttpAnswer.json(400, {"message": "Bad Request"})


class _ApiServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the request threads
    block_on_close = True
    request_queue_size = 128  # socketserver's 5 refuses connections from a few dozen concurrent callers

    def __init__(self, address: tuple[str, int], gateway: ApiGateway) -> None:
        super().__init__(address, _RequestHandler)
        self.gateway = gateway


class _RequestHandler(BaseHTTPRequestHandler):
    server: _ApiServer
    timeout = CLIENT_SOCKET_TIMEOUT_S

    def _handle(self) -> None:
        answer, request_id = self._answer()
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        if request_id is not None:
            self.send_header("x-amzn-RequestId", request_id)
        self.send_header("Content-Length", str(len(answer.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def _answer(self) -> tuple[HttpAnswer, str | None]:
        text = (self.headers.get("Content-Length") or "0").strip()
        length = whole_number(text, maximum=PAYLOAD_LIMIT_BYTES)
        if length is None:
            too_long = text.isascii() and text.isdigit()
            return (REQUEST_TOO_LONG if too_long else BAD_CONTENT_LENGTH), None
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=self.rfile.read(length) if length else b"",
            source_ip=self.client_address[0],
            protocol=self.request_version,
            port=self.server.server_address[1],
        )
        return self.server.gateway.answer(request)

    def __getattr__(self, name: str) -> Callable[[], None]:
        # http.server calls do_<METHOD>; every method goes to the one handler (and may find no route).
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the function logs each request itself."""


class ApiGateway(StartStop):
    def __init__(
        self,
        invoker: LambdaInvoker,
        routes: tuple[ApiRoute, ...],
        stage: str,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        integration_timeout_s: float = INTEGRATION_TIMEOUT_S,
        calls: CallLog | None = None,
        contract: AnswerContract | None = None,
    ) -> None:
        """`calls`: where the operator CLI's requests are recorded as execute-api:Invoke calls;
        `contract`: what every answer on a route is checked against."""
        self._invoker = invoker
        self._calls = calls
        self._contract = contract
        self.contract_violations: list[str] = []
        self._integration_timeout_s = integration_timeout_s
        self._routes = RouteTable(routes)
        self._stage = stage
        self._address = (host, port)
        self._server: _ApiServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the API is already running")
        self._server = _ApiServer(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="api-gateway", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stops accepting requests and waits for those in progress. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join()
        self._server = self._thread = None

    @property
    def url(self) -> str:
        """Such as `http://127.0.0.1:3000`."""
        if self._server is None:
            raise RuntimeError("the API is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, request: HttpRequest) -> tuple[HttpAnswer, str | None]:
        """The HTTP answer to a request, and the requestId the function saw (None if not invoked)."""
        match = self._routes.match(request.method, request.target.split("?", 1)[0])
        if match is None:
            return MISSING_AUTHENTICATION_TOKEN, None
        self._record(request)
        answer, request_id = self._routed_answer(request, match)
        if self._contract is None:
            return answer, request_id
        return self._checked(self._contract, answer, request.method, match), request_id

    def _checked(
        self, contract: AnswerContract, answer: HttpAnswer, method: str, match: RouteMatch
    ) -> HttpAnswer:
        headers = dict(answer.headers)
        version = match.path_parameters.get("version")
        problems = contract.problems(
            ApiAnswer(method, match.route.path, answer.status, headers, decoded_body(answer.body), version)
        )
        if not problems:
            return answer
        violation = f"{method} {match.route.path} answered {answer.status}: {'; '.join(problems)}"
        self.contract_violations.append(violation)
        print(f"local API, off openapi.yaml: {violation}", file=sys.stderr, flush=True)
        body = {"message": "the function's answer departs from openapi.yaml", "problems": problems}
        return HttpAnswer.json(500, body, [(CONTRACT_VIOLATION_HEADER, "true")])

    def _routed_answer(self, request: HttpRequest, match: RouteMatch) -> tuple[HttpAnswer, str]:
        event = proxy_event(request, match, self._stage)
        request_id: str = event["requestContext"]["requestId"]
        function_timeout_s = self._invoker.function.timeout_s
        invocation = self._invoker.invoke(
            event, give_up_after_s=min(self._integration_timeout_s, function_timeout_s)
        )
        if (
            invocation.status is InvocationStatus.TIMED_OUT
            and self._integration_timeout_s < function_timeout_s
        ):
            return ENDPOINT_TIMED_OUT, request_id
        answer = http_answer(invocation.response) if invocation.status is InvocationStatus.RETURNED else None
        return answer or INTERNAL_SERVER_ERROR, request_id

    def _record(self, request: HttpRequest) -> None:
        """A named caller's request, as the execute-api:Invoke call IAM authorises on AWS."""
        user_agent = next((value for name, value in request.headers if name.lower() == "user-agent"), "")
        principal = principal_of(user_agent)
        if self._calls is None or principal is None:
            return
        path = request.target.split("?", 1)[0]
        resources = (("ApiId", API_ID), ("Method", request.method), ("Path", path), ("Stage", self._stage))
        self._calls.record(AwsCall(principal, "execute-api", REGION, "Invoke", resources))
