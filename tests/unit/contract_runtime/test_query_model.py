"""QueryModel reads an operation's query string as FastAPI's own `Annotated[Model, Query()]` does, in one call."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations.
import asyncio
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.requests import Request

from contract_runtime.query_model import QueryModel, is_list
from generated.api import ListTasksQuery


def app_reading(query_model: Any) -> FastAPI:
    """An app that answers listTasks' query as read by `query_model`, or FastAPI's validation errors."""

    async def read(query: Annotated[ListTasksQuery, query_model]) -> dict[str, Any]:
        return query.model_dump(mode="json")

    app = FastAPI(openapi_url=None)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"loc": list(e["loc"]), "type": e["type"], "msg": e["msg"]} for e in exc.errors()]
        return JSONResponse({"errors": errors}, status_code=422)

    app.router.add_api_route("/tasks", read, methods=["GET"])
    return app


FASTAPI = app_reading(Query())
OURS = app_reading(Depends(QueryModel(ListTasksQuery)))


def answers(query_string: str) -> tuple[tuple[int, Any], tuple[int, Any]]:
    """FastAPI's answer and QueryModel's to the same query string."""

    async def ask() -> tuple[tuple[int, Any], tuple[int, Any]]:
        results = []
        for app in (FASTAPI, OURS):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                response = await client.get(f"/tasks?{query_string}")
                results.append((response.status_code, response.json()))
        return results[0], results[1]

    return asyncio.run(ask())


@pytest.mark.parametrize(
    "query_string",
    [
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
    ],
)
def test_a_query_string_is_answered_as_fastapis_query_model_answers_it(query_string: str) -> None:
    fastapi, ours = answers(query_string)
    assert ours == fastapi


def test_list_fields_are_found_optional_or_not() -> None:
    assert is_list(list[str])
    assert is_list(list[str] | None)
    assert not is_list(str | None)
    assert QueryModel(ListTasksQuery).list_keys == {"tag"}
