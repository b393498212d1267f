"""A body-less route of the generated shape is served by calling its dependencies and endpoint directly,
with the answers FastAPI's own handler gives; any other route, and any route while the application has
dependency overrides, by FastAPI's handler (decision 0064)."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which name local checks.
import asyncio
import secrets
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contract_runtime.direct_calls import direct_handler
from contract_runtime.parameters import RequestParameters
from contract_runtime.routing import ContractRoute
from contract_runtime.security import SecurityScheme


class NotePath(BaseModel):
    owner_id: Annotated[str, Field(pattern="^[a-z]+$")]


class NoteQuery(BaseModel):
    limit: Annotated[int, Field(ge=1, le=10)] = 5


class NoteParameters(BaseModel):
    path: NotePath
    query: NoteQuery


async def owner_token(request: Request) -> str:
    if request.headers.get("authorization") != "owner":
        raise HTTPException(401, "no token", headers={"WWW-Authenticate": "Bearer"})
    return "owner"


owner = SecurityScheme(owner_token)
parameters_of_notes = RequestParameters(NoteParameters)


async def read_notes(
    caller: Annotated[str, Security(owner)], parameters: Annotated[NoteParameters, Depends(parameters_of_notes)]
) -> Response:
    if parameters.query.limit == 7:
        raise HTTPException(404, "no such notes")
    body = {"caller": caller, "owner": parameters.path.owner_id, "limit": parameters.query.limit}
    return JSONResponse(body, headers={"ETag": '"1"'})


def notes_app() -> FastAPI:
    app = FastAPI(openapi_url=None)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"errors": [[list(e["loc"]), e["type"]] for e in exc.errors()]}, status_code=422)

    app.router.add_api_route("/notes/{owner_id}", read_notes, methods=["GET"], route_class_override=ContractRoute)
    return app


REQUESTS = [
    ("/notes/ann", {"authorization": "owner"}),
    ("/notes/ann?limit=3", {"authorization": "owner"}),
    ("/notes/ann?limit=3&limit=4", {"authorization": "owner"}),
    ("/notes/ann?limit=7", {"authorization": "owner"}),
    ("/notes/ann?limit=0", {"authorization": "owner"}),
    ("/notes/ANN?limit=x", {"authorization": "owner"}),
    ("/notes/ann", {}),
    ("/notes/ANN?limit=0", {"authorization": "someone"}),
]


def answers(app: FastAPI) -> list[tuple[int, dict[str, str], bytes]]:
    async def send() -> list[tuple[int, dict[str, str], bytes]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            sent = [await client.get(path, headers=headers) for path, headers in REQUESTS]
        return [(response.status_code, dict(response.headers), response.content) for response in sent]

    return asyncio.run(send())


def handler_of(app: FastAPI) -> Any:
    [route] = [route for route in app.routes if isinstance(route, ContractRoute)]
    return route.get_route_handler()


def test_a_route_of_the_generated_shape_is_served_by_calling_its_dependencies_and_endpoint() -> None:
    assert handler_of(notes_app()).__qualname__ == "direct_handler.<locals>.handle"


def test_its_answers_are_fastapis_for_valid_refused_and_invalid_requests() -> None:
    direct = notes_app()
    fastapis = notes_app()
    fastapis.dependency_overrides[str] = str  # any override: FastAPI's own handler serves every request
    expected = answers(fastapis)
    assert [status for status, _, _ in expected] == [200, 200, 200, 404, 422, 422, 401, 401]
    assert answers(direct) == expected


def test_dependency_overrides_are_honoured_through_fastapis_handler() -> None:
    app = notes_app()

    async def anyone() -> str:
        return "tester"

    app.dependency_overrides[owner] = anyone
    [status, _, body] = answers(app)[6]  # no token
    assert (status, body) == (200, b'{"caller":"tester","owner":"ann","limit":5}')


class Note(BaseModel):
    text: str


async def query_parameter(limit: int = 5) -> int:
    return limit


def synchronous(request: Request) -> str:
    return "sync"


async def declared_in_the_endpoint(caller: Annotated[str, Security(owner)], owner_id: str) -> Response:
    return Response()


async def returning_a_model(caller: Annotated[str, Security(owner)]) -> Note:
    return Note(text="")


async def taking_the_request(request: Request) -> Response:
    return Response()


async def with_a_parameter_of_its_own(limit: Annotated[int, Depends(query_parameter)]) -> Response:
    return Response()


async def with_a_sync_dependency(value: Annotated[str, Depends(synchronous)]) -> Response:
    return Response()


async def with_one_dependency_twice(
    caller: Annotated[str, Security(owner)], again: Annotated[str, Security(owner)]
) -> Response:
    return Response()


@pytest.mark.parametrize(
    "endpoint",
    [
        declared_in_the_endpoint,
        returning_a_model,
        taking_the_request,
        with_a_parameter_of_its_own,
        with_a_sync_dependency,
        with_one_dependency_twice,
    ],
)
def test_any_other_shape_is_left_to_fastapi(endpoint: Any) -> None:
    app = FastAPI(openapi_url=None)
    app.router.add_api_route("/notes/{owner_id}", endpoint, methods=["GET"], route_class_override=ContractRoute)
    [route] = [route for route in app.routes if isinstance(route, ContractRoute)]

    async def fastapis(request: Request) -> Response:
        return Response()

    assert direct_handler(route.dependant, fastapis=fastapis, overrides_provider=app) is None


def test_every_body_less_operation_of_the_service_is_called_directly() -> None:
    from impl.app import create_app
    from impl.settings import Settings

    settings = Settings(database_url="postgresql://unused@127.0.0.1:1/unused", jwt_secret=secrets.token_urlsafe(48))
    routes = [route for route in create_app(settings).routes if isinstance(route, ContractRoute)]
    handlers = {
        (method, route.path): route.get_route_handler().__qualname__ for route in routes for method in route.methods
    }
    direct = {operation for operation, handler in handlers.items() if handler == "direct_handler.<locals>.handle"}
    assert direct == {operation for operation in handlers if operation[0] in ("GET", "DELETE")} | {
        ("PATCH", "/api/{user_id}/tasks/{task_id}/complete")
    }
    assert len(direct) == 7
