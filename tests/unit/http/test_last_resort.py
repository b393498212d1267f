"""An error nothing else handles is still a problem document with the request id, never a stack trace."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations.
from typing import Annotated

import httpx
from fastapi import Body, FastAPI

from impl.http import error_handlers
from impl.telemetry.logs import RequestLogMiddleware
from tests.support.problems import assert_problem


def failing_app() -> FastAPI:
    app = FastAPI()

    async def broken() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/broken", broken, methods=["GET"])
    error_handlers.install(app)
    app.add_middleware(error_handlers.LastResort)
    app.add_middleware(RequestLogMiddleware)
    return app


async def test_an_unhandled_error_is_a_500_problem_with_the_request_id() -> None:
    transport = httpx.ASGITransport(app=failing_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/broken", headers={"X-Request-ID": "bug-report-7"})
    body = assert_problem(response, 500)
    assert response.headers["x-request-id"] == "bug-report-7"
    assert body["request_id"] == "bug-report-7"
    assert "secret internals" not in response.text


def app_reading_bodies_with_fastapis_own_reader() -> FastAPI:
    app = FastAPI()

    async def echo(body: Annotated[list[object], Body()]) -> None:
        return None

    app.add_api_route("/echo", echo, methods=["POST"])
    error_handlers.install(app)
    return app


async def test_fastapis_own_400_for_a_body_it_cannot_read_is_the_contracts_malformed_body() -> None:
    # FastAPI turns any error its reader raises (here a RecursionError) into an anonymous 400.
    transport = httpx.ASGITransport(app=app_reading_bodies_with_fastapis_own_reader())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/echo", content=b"[" * 60_000, headers={"Content-Type": "application/json"})
    body = assert_problem(response, 400, title="Bad Request")
    assert body["detail"] == "The request body is not valid JSON."
    assert [error["pointer"] for error in body["errors"]] == [""]
