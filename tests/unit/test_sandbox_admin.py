"""The `/__sandbox/` endpoints as a function, for what sockets on one machine cannot show."""

import json

from local.hubspot_sandbox import HubSpotSandbox
from local.hubspot_sandbox.admin import handle_admin_request
from local.hubspot_sandbox.server import IncomingRequest


def admin_request(
    method: str, path: str, body: object = None, client_host: str = "127.0.0.1"
) -> IncomingRequest:
    payload = b"" if body is None else json.dumps(body).encode()
    return IncomingRequest(method, f"/__sandbox/{path}", None, payload, client_host)


def test_a_client_from_another_host_is_refused() -> None:
    # GIVEN a sandbox (one bound to all interfaces can be reached from the network)
    sandbox = HubSpotSandbox()

    # WHEN a client from the network asks to reset it
    reply = handle_admin_request(sandbox, admin_request("POST", "reset", client_host="192.0.2.10"))

    # THEN it is refused
    assert reply.status == 403
    assert reply.body["status"] == "error"


def test_ipv6_loopback_is_loopback() -> None:
    # GIVEN / WHEN the state is asked for from ::1
    reply = handle_admin_request(HubSpotSandbox(), admin_request("GET", "state", client_host="::1"))

    # THEN it is answered
    assert reply.status == 200


def test_an_unknown_endpoint_or_method_is_not_found() -> None:
    # GIVEN / WHEN a path or method the admin API does not have
    sandbox = HubSpotSandbox()
    replies = [
        handle_admin_request(sandbox, admin_request("GET", "nothing")),
        handle_admin_request(sandbox, admin_request("GET", "reset")),
    ]

    # THEN each is a 404
    assert [reply.status for reply in replies] == [404, 404]


def test_a_body_that_is_not_a_json_object_is_a_400() -> None:
    # GIVEN / WHEN a config change that is not an object, and one that is not JSON
    sandbox = HubSpotSandbox()
    list_reply = handle_admin_request(sandbox, admin_request("POST", "config", body=[1]))
    text_request = IncomingRequest("POST", "/__sandbox/config", None, b"latency=5", "127.0.0.1")
    text_reply = handle_admin_request(sandbox, text_request)

    # THEN both are refused as validation errors
    assert (list_reply.status, text_reply.status) == (400, 400)
    assert list_reply.body["category"] == text_reply.body["category"] == "VALIDATION_ERROR"


def test_unknown_token_changes_are_refused() -> None:
    # GIVEN / WHEN a token change with a misspelt key
    reply = handle_admin_request(HubSpotSandbox(), admin_request("POST", "tokens", body={"revokes": ["x"]}))

    # THEN it is refused, naming the key
    assert reply.status == 400
    assert "revokes" in reply.body["message"]
