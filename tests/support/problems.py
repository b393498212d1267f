"""Problem documents (RFC 9457) as the tests expect every error answer of the service to be."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.raw_http import RawResponse

PROBLEM_JSON = "application/problem+json"


def assert_problem(
    response: httpx.Response | RawResponse,
    status: int | range,
    *,
    title: str | None = None,
    problem_type: str | None = None,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An error answer with `status` (or one in the range) as a problem document; the document.

    Always checked: the media type, the members type, title, status (the answer's) and detail, an
    instance when there is one, a message on each of `errors` when there are any, and no traceback.
    The title, type, instance and errors are compared when given.
    """
    if isinstance(response, httpx.Response):
        code, media_type, text = response.status_code, response.headers.get("content-type"), response.text
    else:
        code, media_type, text = response.status, response.header("content-type"), response.body.decode()
    assert code in status if isinstance(status, range) else code == status, text[:500]
    assert media_type == PROBLEM_JSON, (media_type, text[:500])
    assert "Traceback" not in text
    body = json.loads(text)
    assert isinstance(body, dict), text[:500]
    assert body["status"] == code, body
    members = [body["type"], body["title"], body["detail"], *(error["message"] for error in body.get("errors", []))]
    for member in members:
        assert isinstance(member, str), body
        assert member, body
    assert isinstance(body.get("instance", ""), str), body
    if title is not None:
        assert body["title"] == title, body
    if problem_type is not None:
        assert body["type"] == problem_type, body
    if instance is not None:
        assert body.get("instance") == instance, body
    if errors is not None:
        assert body.get("errors") == errors, body
    return body


def assert_unauthorized(response: httpx.Response) -> None:
    """A 401 problem with a Bearer challenge, as every refused credential is answered."""
    assert_problem(response, 401)
    assert response.headers.get("www-authenticate", "").startswith("Bearer"), response.headers


def assert_invalid(response: Any, *, pointer: str | None = None, parameter: str | None = None) -> None:
    body = assert_problem(response, 422, title="Unprocessable Content", problem_type="about:blank")
    locations = [(error.get("pointer"), error.get("parameter")) for error in body["errors"]]
    if pointer is not None:
        assert (pointer, None) in locations, locations
    if parameter is not None:
        assert (None, parameter) in locations, locations
