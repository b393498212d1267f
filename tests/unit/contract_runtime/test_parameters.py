"""RequestParameters reads an operation's parameters as FastAPI's own declarations do, in one call.

FastAPI's way is a `Path()` per path parameter and `Query()` and `Header()` parameter models; the same
requests must get the same values, or the same validation errors in the same order.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations.
import asyncio
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Body, Depends, FastAPI, Header, Path, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.requests import Request

from contract_runtime.parameters import RequestParameters, is_list
from generated.api import ListTasksQuery, ReplaceTaskHeaders, ReplaceTaskPath
from generated.models import TaskReplace

ROUTE = "/api/{user_id}/tasks/{task_id}"


class Parameters(BaseModel):
    path: ReplaceTaskPath
    query: ListTasksQuery
    headers: ReplaceTaskHeaders


def answering(app: FastAPI) -> FastAPI:
    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"loc": list(e["loc"]), "type": e["type"], "msg": e["msg"]} for e in exc.errors()]
        return JSONResponse({"errors": errors}, status_code=422)

    return app


def fastapis_own() -> FastAPI:
    app = answering(FastAPI(openapi_url=None))

    @app.get(ROUTE)
    async def read(
        user_id: Annotated[str, Path(min_length=1, max_length=128, pattern="^[A-Za-z0-9_-]+$")],
        task_id: Annotated[int, Path(ge=1, le=9223372036854775807)],
        query: Annotated[ListTasksQuery, Query()],
        headers: Annotated[ReplaceTaskHeaders, Header()],
    ) -> dict[str, Any]:
        return {
            "path": {"user_id": user_id, "task_id": task_id},
            "query": query.model_dump(mode="json"),
            "headers": headers.model_dump(mode="json"),
        }

    @app.put(ROUTE)
    async def replace(
        user_id: Annotated[str, Path(min_length=1, max_length=128, pattern="^[A-Za-z0-9_-]+$")],
        task_id: Annotated[int, Path(ge=1, le=9223372036854775807)],
        query: Annotated[ListTasksQuery, Query()],
        headers: Annotated[ReplaceTaskHeaders, Header()],
        body: Annotated[TaskReplace, Body(media_type="application/json")],
    ) -> dict[str, Any]:
        return {"body": body.model_dump(mode="json")}

    return app


def ours() -> FastAPI:
    app = answering(FastAPI(openapi_url=None))

    @app.get(ROUTE)
    async def read(parameters: Annotated[Parameters, Depends(RequestParameters(Parameters))]) -> dict[str, Any]:
        return parameters.model_dump(mode="json")

    @app.put(ROUTE)
    async def replace(
        parameters: Annotated[Parameters, Depends(RequestParameters(Parameters))],
        body: Annotated[TaskReplace, Body(media_type="application/json")],
    ) -> dict[str, Any]:
        return {"body": body.model_dump(mode="json")}

    return app


APPS = (fastapis_own(), ours())


def answers(
    path: str, headers: list[tuple[str, str]], body: bytes | None = None
) -> tuple[tuple[int, Any], tuple[int, Any]]:
    """FastAPI's answer and RequestParameters' to the same request (a PUT when it has a body, sent as JSON
    unless `headers` give its Content-Type)."""

    async def ask() -> tuple[tuple[int, Any], tuple[int, Any]]:
        results = []
        for app in APPS:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                if body is None:
                    response = await client.get(path, headers=headers)
                else:
                    typed = any(name.lower() == "content-type" for name, _ in headers)
                    sent = headers if typed else [*headers, ("Content-Type", "application/json")]
                    response = await client.put(path, headers=sent, content=body)
                results.append((response.status_code, response.json()))
        return results[0], results[1]

    return asyncio.run(ask())


QUERY_STRINGS = [
    pytest.param("", id="none: the defaults"),
    pytest.param("status=pending&sort=due&order=asc&limit=5&offset=10", id="scalars"),
    pytest.param("tag=home&tag=work", id="a list key repeated"),
    pytest.param("tag=home", id="a list key once"),
    pytest.param("limit=5&limit=7", id="a scalar key repeated: the last one"),
    pytest.param("q=milk&unknown=1&unknown=2", id="keys the model does not declare"),
    pytest.param("overdue=true&due_before=2026-01-01T00:00:00Z", id="the wire types"),
    pytest.param("limit=0&status=done&tag=", id="three invalid values"),
    pytest.param("overdue=yes&due_after=tomorrow", id="invalid wire types"),
    pytest.param("tag=" + "&tag=".join(f"t{i}" for i in range(11)), id="too many list items"),
    pytest.param("cursor=&q=", id="empty values"),
    pytest.param("limit=abc&offset=-1&order=up&sort=size", id="every scalar invalid"),
]


@pytest.mark.parametrize("query_string", QUERY_STRINGS)
def test_a_query_string_is_read_as_fastapis_query_model_reads_it(query_string: str) -> None:
    fastapi, ours = answers(f"/api/alice/tasks/7?{query_string}", [])
    assert ours == fastapi


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/alice_-9/tasks/9223372036854775807", id="valid: the largest id"),
        pytest.param("/api/al.ce/tasks/7", id="a user id outside the pattern"),
        pytest.param(f"/api/{'a' * 129}/tasks/7", id="a user id too long"),
        pytest.param("/api/alice/tasks/0", id="an id below 1"),
        pytest.param("/api/alice/tasks/9223372036854775808", id="an id past the largest"),
        pytest.param("/api/alice/tasks/seven", id="an id that is not a number"),
        pytest.param("/api/alice/tasks/07", id="an id with a leading zero"),
        pytest.param("/api/al%20ce/tasks/-1", id="both invalid"),
    ],
)
def test_path_parameters_are_read_as_fastapis_path_declarations_read_them(path: str) -> None:
    fastapi, ours = answers(path, [])
    assert ours == fastapi


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([("If-Match", '"v1"')], id="one header"),
        pytest.param([("if-none-match", "*"), ("IF-MATCH", '"v1"')], id="names in any case"),
        pytest.param([("If-Match", '"v1"'), ("If-Match", '"v2"')], id="a header repeated: the first one"),
        pytest.param([("X-Other", "1"), ("If-Match", '"v1"')], id="headers the model does not declare"),
        pytest.param([("If-Match", "x" * 1025)], id="a value too long"),
        pytest.param([("If-Match", "x" * 1025), ("If-None-Match", "y" * 1025)], id="two values too long"),
    ],
)
def test_headers_are_read_as_fastapis_header_model_reads_them(headers: list[tuple[str, str]]) -> None:
    fastapi, ours = answers("/api/alice/tasks/7", headers)
    assert ours == fastapi


def test_errors_in_every_location_come_together_path_then_query_then_header() -> None:
    fastapi, ours = answers("/api/al.ce/tasks/0?limit=0&overdue=yes", [("If-Match", "x" * 1025)])
    assert ours == fastapi
    status, body = ours
    assert status == 422
    assert [error["loc"][0] for error in body["errors"]] == ["path", "path", "query", "query", "header"]


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        pytest.param("/api/alice/tasks/7", [], b'{"title": "Milk", "completed": false}', id="all valid"),
        pytest.param("/api/alice/tasks/7", [], b'{"title": ""}', id="only the body invalid"),
        pytest.param("/api/al.ce/tasks/0", [], b'{"title": "Milk", "completed": false}', id="only the path invalid"),
        pytest.param(
            "/api/al.ce/tasks/7",
            [("If-Match", "x" * 1025)],
            b'{"title": "", "priority": "urgent"}',
            id="path, header and body invalid",
        ),
        pytest.param("/api/alice/tasks/0", [], b"", id="the path invalid and the body empty"),
        pytest.param("/api/alice/tasks/0", [], b"null", id="the path invalid and the body null"),
        pytest.param("/api/alice/tasks/0", [], b"[1]", id="the path invalid and the body not an object"),
        pytest.param(
            "/api/alice/tasks/0",
            [("Content-Type", "text/plain")],
            b'{"title": ""}',
            id="the path invalid and the body not sent as JSON",
        ),
    ],
)
def test_a_body_is_listed_after_the_parameters_as_fastapi_lists_it(
    path: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    fastapi, ours = answers(path, headers, body)
    assert ours == fastapi


def test_list_fields_are_found_optional_or_not() -> None:
    assert is_list(list[str])
    assert is_list(list[str] | None)
    assert not is_list(str | None)
    assert RequestParameters(Parameters).query_list_keys == {"tag"}


def test_a_model_with_a_field_for_no_location_is_refused() -> None:
    class Stray(BaseModel):
        path: ReplaceTaskPath
        cookies: ListTasksQuery

    with pytest.raises(TypeError, match="cookies"):
        RequestParameters(Stray)
