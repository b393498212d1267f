"""The generated routes' class and what the application's own routing answers about a request."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which name local checks.
import asyncio
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Request, Security
from pydantic import BaseModel

from contract_runtime.request_body import MalformedBody
from contract_runtime.routing import ContractRoute, allowed_methods, body_media_types
from contract_runtime.security import SecurityScheme


class Note(BaseModel):
    text: str


def app_with_notes() -> tuple[FastAPI, list[str]]:
    """Notes at /notes/{owner}, readable and writable by the owner's token; the checks it ran, in order."""
    checks: list[str] = []

    async def owner_token(request: Request) -> str:
        checks.append(request.url.path)
        if request.headers.get("authorization") != "owner":
            raise HTTPException(401, "no token")
        return "owner"

    owner = SecurityScheme(owner_token)

    async def write_note(caller: Annotated[str, Security(owner)], owner_id: str, body: Note) -> Note:
        return body

    async def read_notes(caller: Annotated[str, Security(owner)], owner_id: str) -> list[Note]:
        return []

    app = FastAPI(openapi_url=None)

    @app.exception_handler(MalformedBody)
    async def on_malformed(request: Request, exc: Exception) -> None:
        assert isinstance(exc, MalformedBody)
        raise HTTPException(400, exc.reason)

    app.router.add_api_route("/notes/{owner_id}", write_note, methods=["POST"], route_class_override=ContractRoute)
    app.router.add_api_route("/notes/{owner_id}", read_notes, methods=["GET"], route_class_override=ContractRoute)
    app.router.add_api_route("/about", read_notes, methods=["GET"])
    return app, checks


def requests(app: FastAPI, *calls: tuple[str, str, dict[str, Any]]) -> list[httpx.Response]:
    """The answers to these requests (method, path, httpx options), sent one after another to the app."""

    async def send() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.request(method, path, **options) for method, path, options in calls]

    return asyncio.run(send())


def scope(method: str, path: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}


def test_a_route_with_a_body_answers_the_security_check_before_judging_the_body() -> None:
    app, _ = app_with_notes()
    [response] = requests(app, ("POST", "/notes/a", {"content": b"{", "headers": {"content-type": "application/json"}}))
    assert response.status_code == 401


def test_a_malformed_body_is_judged_once_the_caller_passed() -> None:
    app, _ = app_with_notes()
    headers = {"content-type": "application/json", "authorization": "owner"}
    [response] = requests(app, ("POST", "/notes/a", {"content": b"{", "headers": headers}))
    assert response.status_code == 400
    assert "line 1, column 2" in response.json()["detail"]


@pytest.mark.parametrize(("method", "body"), [("POST", {"text": "hi"}), ("GET", None)])
def test_the_security_check_runs_once_per_request(method: str, body: object) -> None:
    app, checks = app_with_notes()
    call = (method, "/notes/a", {"json": body, "headers": {"authorization": "owner"}})
    for response in requests(app, call, call):
        assert response.status_code == 200, response.text
    assert checks == ["/notes/a", "/notes/a"]


def test_allowed_methods_are_every_routes_at_the_path() -> None:
    app, _ = app_with_notes()
    assert allowed_methods(app.router.routes, scope("DELETE", "/notes/a")) == ["GET", "POST"]
    assert allowed_methods(app.router.routes, scope("DELETE", "/about")) == ["GET"]
    assert allowed_methods(app.router.routes, scope("GET", "/nowhere")) == []


@pytest.mark.parametrize(
    ("method", "path", "media_types"),
    [
        ("POST", "/notes/a", ("application/json",)),
        ("GET", "/notes/a", None),
        ("DELETE", "/notes/a", None),
        ("POST", "/nowhere", None),
    ],
)
def test_the_body_media_types_are_the_matching_operations(
    method: str, path: str, media_types: tuple[str, ...] | None
) -> None:
    app, _ = app_with_notes()
    assert body_media_types(app.router.routes, scope(method, path)) == media_types
