"""JsonAnswer and EmptyAnswer render a success answer as FastAPI's response_model path rendered it."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations.
import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Response
from fastapi.exceptions import ResponseValidationError

from contract_runtime.answers import EmptyAnswer, JsonAnswer
from generated.models import Health, TagList


def fastapi_and_ours(value: Any) -> tuple[httpx.Response, httpx.Response]:
    """The same value answered by a route with `response_model=` and by one returning JsonAnswer's Response."""
    app = FastAPI(openapi_url=None)
    answer = JsonAnswer(TagList, 200)

    async def fastapis() -> Any:
        return value

    async def ours() -> Response:
        return answer(value, {"ETag": '"v1"'})

    app.router.add_api_route("/fastapi", fastapis, response_model=TagList)
    app.router.add_api_route("/ours", ours)

    async def ask() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await client.get("/fastapi"), await client.get("/ours")

    return asyncio.run(ask())


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(
            TagList.model_validate({"items": [{"name": "home", "task_count": 2}], "limit": 10, "next_cursor": None}),
            id="a model instance",
        ),
        pytest.param({"items": [], "limit": 10, "next_cursor": "abc"}, id="a dict, validated as the model"),
    ],
)
def test_the_body_is_fastapis_byte_for_byte_with_the_headers_given(value: Any) -> None:
    fastapi, ours = fastapi_and_ours(value)
    assert (ours.status_code, ours.content) == (fastapi.status_code, fastapi.content)
    assert ours.headers["content-type"] == fastapi.headers["content-type"] == "application/json"
    assert ours.headers["content-length"] == str(len(ours.content))
    assert ours.headers["etag"] == '"v1"'


def test_a_value_that_is_not_the_response_model_is_fastapis_response_validation_error() -> None:
    answer = JsonAnswer(Health, 200)
    with pytest.raises(ResponseValidationError) as raised:
        answer({"status": "down"})
    assert [error["loc"] for error in raised.value.errors()] == [("response", "status")]


def test_an_instance_of_another_model_is_refused_too() -> None:
    with pytest.raises(ResponseValidationError):
        JsonAnswer(Health, 200)(TagList.model_validate({"items": [], "limit": 10, "next_cursor": None}))


def test_an_empty_answer_has_its_status_and_headers_and_no_body() -> None:
    response = EmptyAnswer(204)({"ETag": '"v2"'})
    assert (response.status_code, response.body, response.headers["etag"]) == (204, b"", '"v2"')
    assert "content-length" not in response.headers
