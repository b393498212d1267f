"""CORS for the configured browser origins, against a real server started with CORS_ORIGINS."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from devtools.live_server import LiveServer
from tests.support.contract import OPERATIONS, Operation, operations_with
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.problems import assert_problem
from tests.support.tokens import bearer, shared_secret_token
from tests.support.users import new_user_id

APP = "http://localhost:3000"
OTHER_APP = "https://app.tasks.test"
EVIL = "https://evil.example"
# What a browser's client sends: its token, a JSON body, every header parameter of the spec, a request id.
HEADER_PARAMETERS = {
    parameter["name"].lower() for sent in OPERATIONS for parameter in sent.parameters if parameter["in"] == "header"
}
REQUEST_HEADERS = sorted({"authorization", "content-type", *HEADER_PARAMETERS, "x-request-id"})
EXPOSED_HEADERS = [
    "etag",
    "location",
    "x-request-id",
    "idempotent-replayed",
    "retry-after",
    "www-authenticate",
    "deprecation",
    "sunset",
    "link",
]


@pytest.fixture(scope="module")
def cors_http(database_url: str) -> Iterator[httpx.Client]:
    env = {**shared_secret_env(database_url), "CORS_ORIGINS": f"{APP}, {OTHER_APP}/"}
    live = LiveServer(env, log_path=REPORTS / "server-cors.log")
    with httpx.Client(base_url=live.url, timeout=10) as client:
        yield client
    live.stop()


def preflight(http: httpx.Client, origin: str, method: str, path: str, headers: str) -> httpx.Response:
    return http.options(
        path,
        headers={"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers},
    )


def listed(value: str) -> list[str]:
    return [item.strip().lower() for item in value.split(",") if item.strip()]


@pytest.mark.parametrize("origin", [APP, OTHER_APP])
@pytest.mark.parametrize("sent", operations_with("user_id"), ids=str)
def test_an_allowed_origins_preflight_is_answered_before_auth(
    cors_http: httpx.Client, origin: str, sent: Operation
) -> None:
    method = sent.method
    response = preflight(cors_http, origin, method, sent.path(new_user_id(), 1), ", ".join(REQUEST_HEADERS))
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == origin
    assert method.lower() in listed(response.headers["access-control-allow-methods"])
    assert set(REQUEST_HEADERS) <= set(listed(response.headers["access-control-allow-headers"]))
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["vary"].lower().count("origin") == 1


def test_an_allowed_origins_request_exposes_the_headers_clients_need(cors_http: httpx.Client) -> None:
    user = new_user_id()
    response = cors_http.post(
        f"/api/{user}/tasks",
        json={"title": "Buy milk"},
        headers={"Origin": APP, "Idempotency-Key": "cors-1", **bearer(shared_secret_token(user))},
    )
    assert response.status_code == 201, response.text
    assert response.headers["access-control-allow-origin"] == APP
    assert set(EXPOSED_HEADERS) <= set(listed(response.headers["access-control-expose-headers"]))
    assert "access-control-allow-credentials" not in response.headers
    assert {"etag", "location", "x-request-id"} <= set(response.headers)


def test_an_allowed_origin_can_read_a_problem(cors_http: httpx.Client) -> None:
    response = cors_http.get(f"/api/{new_user_id()}/tasks", headers={"Origin": APP})
    assert_problem(response, 401)
    assert response.headers["access-control-allow-origin"] == APP


def test_an_allowed_origin_can_tell_a_missing_token_from_an_expired_one(cors_http: httpx.Client) -> None:
    user = new_user_id()
    expired = shared_secret_token(user, exp=int(time.time()) - 60)
    challenges = {}
    for name, headers in {"missing": {}, "expired": bearer(expired)}.items():
        response = cors_http.get(f"/api/{user}/tasks", headers={"Origin": APP, **headers})
        assert_problem(response, 401)
        assert response.headers["access-control-allow-origin"] == APP
        assert "www-authenticate" in listed(response.headers["access-control-expose-headers"])
        challenges[name] = response.headers["www-authenticate"]
    assert challenges == {"missing": "Bearer", "expired": 'Bearer error="invalid_token"'}


def test_a_refused_origins_preflight_gets_no_cors_grant(cors_http: httpx.Client) -> None:
    response = preflight(cors_http, EVIL, "DELETE", f"/api/{new_user_id()}/tasks/1", "authorization, if-match")
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers  # so the browser never sends the DELETE


def test_a_refused_origins_request_gets_no_cors_headers(cors_http: httpx.Client) -> None:
    user = new_user_id()
    response = cors_http.get(f"/api/{user}/tasks", headers={"Origin": EVIL, **bearer(shared_secret_token(user))})
    assert response.status_code == 200  # the browser, not the service, withholds the answer from the page
    assert "access-control-allow-origin" not in response.headers


def test_an_origin_that_only_looks_allowed_is_refused(cors_http: httpx.Client) -> None:
    for origin in [f"{APP}.evil.example", "http://localhost:3001", "https://localhost:3000", "null"]:
        response = preflight(cors_http, origin, "GET", f"/api/{new_user_id()}/tasks", "authorization")
        assert "access-control-allow-origin" not in response.headers, origin


def test_without_cors_origins_there_are_no_cors_headers(http: httpx.Client) -> None:
    response = preflight(http, APP, "GET", f"/api/{new_user_id()}/tasks", "authorization")
    assert "access-control-allow-origin" not in response.headers
    user = new_user_id()
    response = http.get(f"/api/{user}/tasks", headers={"Origin": APP, **bearer(shared_secret_token(user))})
    assert "access-control-allow-origin" not in response.headers
