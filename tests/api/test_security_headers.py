"""Headers every answer carries (OWASP REST Security): nosniff on all, and no copy kept of the API's (decision 0043)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from devtools.live_server import LiveServer
from tests.support.raw_http import RawConnection, RawResponse, request_head
from tests.support.tokens import bearer, shared_secret_token
from tests.support.users import User, new_user_id

OVER_THE_BODY_LIMIT = b'{"title": "' + b"x" * 70_000 + b'"}'


def only(response: httpx.Response, name: str) -> str:
    """The header's one value: a second copy (from two layers) would leave a client to pick one."""
    values = response.headers.get_list(name)
    assert len(values) == 1, (name, values)
    return values[0]


# Each answers through a different layer: the operation, the bearer check, the error handlers, routing,
# and the request limits before routing.
API_ANSWERS: dict[str, Callable[[User, httpx.Client], httpx.Response]] = {
    "list-200": lambda alice, _: alice.request("GET", alice.tasks_path),
    "create-201": lambda alice, _: alice.request("POST", alice.tasks_path, json={"title": "Buy milk"}),
    "no-token-401": lambda alice, http: http.get(alice.tasks_path),
    "another-users-tasks-403": lambda alice, http: http.get(
        f"/api/{new_user_id()}/tasks", headers=bearer(shared_secret_token(alice.id))
    ),
    "no-such-task-404": lambda alice, _: alice.request("GET", alice.task_path(2_000_000_000)),
    "undefined-method-405": lambda alice, _: alice.request("PUT", alice.tasks_path),
    "invalid-body-422": lambda alice, _: alice.request("POST", alice.tasks_path, json={"title": 7}),
    "unknown-path-404": lambda alice, http: http.get(f"/api/{alice.id}/projects"),
    "body-too-large-413": lambda alice, _: alice.request(
        "POST", alice.tasks_path, content=OVER_THE_BODY_LIMIT, headers={"Content-Type": "application/json"}
    ),
    "not-json-415": lambda alice, _: alice.request(
        "POST", alice.tasks_path, content=b"title=milk", headers={"Content-Type": "text/plain"}
    ),
}


@pytest.mark.parametrize("case", API_ANSWERS)
def test_no_answer_of_the_api_is_stored_by_any_cache_and_none_is_sniffed(
    alice: User, http: httpx.Client, case: str
) -> None:
    response = API_ANSWERS[case](alice, http)
    assert response.status_code == int(case.rsplit("-", 1)[1]), response.text[:300]
    assert only(response, "cache-control") == "no-store"
    assert only(response, "x-content-type-options") == "nosniff"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.yaml", "/openapi.json", "/docs", "/no/such/page"])
def test_public_answers_may_be_kept_but_are_revalidated_and_never_sniffed(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert only(response, "cache-control") == "no-cache"
    assert only(response, "x-content-type-options") == "nosniff"


def test_the_parsers_own_refusals_are_not_stored_and_not_sniffed(server: LiveServer) -> None:
    """Written as bytes by the HTTP protocol, past every middleware (impl/http/server_protocol.py)."""
    with RawConnection(server.url) as connection:
        connection.send(request_head("GET", "/healthz", [("Content-Length", "1"), ("Content-Length", "2")]))
        response: RawResponse = connection.response()
    assert response.status == 400
    assert [value for name, value in response.headers if name == "cache-control"] == ["no-store"]
    assert [value for name, value in response.headers if name == "x-content-type-options"] == ["nosniff"]
