"""The sandbox's router: raw request targets are split before anything is decoded."""

from urllib.parse import quote

import pytest

from local.hubspot_sandbox.routes import NoRoute, Operation, Route, match_route, split_target

PREFIX = "/communication-preferences/v4/statuses"


@pytest.mark.parametrize(
    "subscriber",
    ["a/../../crm@x.com", "a?b@x.com", "a#b@x.com", "a%2F@x.com", "o'hara+tag@x.com"],
)
def test_a_percent_encoded_subscriber_is_one_segment_decoded_exactly(subscriber: str) -> None:
    # GIVEN an address with characters that mean something in a URL, encoded as one path segment
    raw_path = f"{PREFIX}/{quote(subscriber, safe='')}/unsubscribe-all"

    # WHEN the path is matched
    route = match_route("POST", raw_path)

    # THEN it is the single unsubscribe-all of exactly that address
    assert route == Route(Operation.UNSUBSCRIBE_ALL, "v4", subscriber)


def test_a_literal_slash_makes_another_path() -> None:
    # GIVEN a subscriber whose slash was not encoded
    # WHEN the path is matched
    route = match_route("POST", f"{PREFIX}/a/..%2Fcrm%40x.com/unsubscribe-all")

    # THEN no operation is served there
    assert route == NoRoute()


def test_a_plus_stays_a_plus() -> None:
    # GIVEN a raw `+` in the subscriber segment (a query string would read it as a space)
    # WHEN the path is matched
    route = match_route("GET", f"{PREFIX}/o%27hara+tag%40x.com/unsubscribe-all")

    # THEN the subscriber keeps its plus
    assert isinstance(route, Route)
    assert route.subscriber == "o'hara+tag@x.com"


def test_escapes_that_are_not_utf8_decode_to_the_replacement_character() -> None:
    # GIVEN a subscriber segment whose escapes are not UTF-8
    # WHEN the path is matched
    route = match_route("POST", f"{PREFIX}/%FF%40x.com/unsubscribe-all")

    # THEN the route still matches, and the undecodable byte shows as U+FFFD for validation to reject
    assert isinstance(route, Route)
    assert route.subscriber == "\ufffd@x.com"


@pytest.mark.parametrize(
    ("method", "suffix", "operation"),
    [
        ("POST", "/a%40x.com/unsubscribe-all", Operation.UNSUBSCRIBE_ALL),
        ("GET", "/a%40x.com/unsubscribe-all", Operation.READ_UNSUBSCRIBE_ALL),
        ("GET", "/a%40x.com", Operation.READ_STATUSES),
        ("POST", "/batch/unsubscribe-all", Operation.BATCH_UNSUBSCRIBE_ALL),
        ("POST", "/batch/unsubscribe-all/read", Operation.BATCH_READ_UNSUBSCRIBE_ALL),
    ],
)
def test_each_operation_has_its_method_and_path(method: str, suffix: str, operation: Operation) -> None:
    # GIVEN / WHEN each documented method and path
    route = match_route(method, PREFIX + suffix)

    # THEN it maps to its operation
    assert isinstance(route, Route)
    assert route.operation is operation


@pytest.mark.parametrize("version", ["v4", "2026-03", "2026-09"])
def test_the_published_versions_are_served(version: str) -> None:
    # GIVEN / WHEN a version HubSpot publishes for these operations
    route = match_route("POST", f"/communication-preferences/{version}/statuses/a%40x.com/unsubscribe-all")

    # THEN it is served, and the route remembers the version
    assert isinstance(route, Route)
    assert route.version == version


@pytest.mark.parametrize(
    "version", ["v3", "v44", "2025-09", "2026-06", "2027-03", "2026-13", "2026-3", "26-03", "latest", ""]
)
def test_other_version_segments_are_not_found(version: str) -> None:
    # GIVEN / WHEN any other version segment, even one of the date form
    route = match_route("POST", f"/communication-preferences/{version}/statuses/a%40x.com/unsubscribe-all")

    # THEN nothing is served there
    assert route == NoRoute()


@pytest.mark.parametrize(
    "raw_path",
    [
        "/",
        "/communication-preferences/v4",
        "/communication-preferences/v4/statuses",
        f"{PREFIX}/a%40x.com/unsubscribe-all/",
        f"{PREFIX}/a%40x.com/subscribe",
        "/crm/v3/objects/contacts",
    ],
)
def test_unknown_paths_are_not_found(raw_path: str) -> None:
    # GIVEN / WHEN a path HubSpot does not serve for these operations
    # THEN there is no route and no method is allowed
    assert match_route("GET", raw_path) == NoRoute()


def test_a_known_path_with_another_method_lists_the_allowed_methods() -> None:
    # GIVEN / WHEN a DELETE where only GET and POST are served
    route = match_route("DELETE", f"{PREFIX}/a%40x.com/unsubscribe-all")

    # THEN the route says which methods the path takes
    assert route == NoRoute(allowed=("GET", "POST"))


def test_the_target_splits_at_the_first_question_mark_only() -> None:
    # GIVEN a raw target with an encoded `?` in the path and a `?` inside the query
    # WHEN it is split
    path, query = split_target("/x/a%3Fb%40x.com/unsubscribe-all?channel=EMAIL&note=a?b")

    # THEN nothing is decoded and the query keeps its own `?`
    assert path == "/x/a%3Fb%40x.com/unsubscribe-all"
    assert query == "channel=EMAIL&note=a?b"
