"""A route of the generated shape, with or without a JSON body, is served by calling its dependencies and
endpoint directly, with the answers FastAPI's own handler gives; any other route, and any route while the
application has dependency overrides, by FastAPI's handler (decisions 0064 and 0066)."""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which name local checks.
import asyncio
import inspect
import json
import secrets
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Body, Depends, FastAPI, HTTPException, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import Message

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

    app.add_exception_handler(RequestValidationError, on_invalid)
    app.router.add_api_route("/notes/{owner_id}", read_notes, methods=["GET"], route_class_override=ContractRoute)
    return app


async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [[list(e["loc"]), e["type"], e["msg"], repr(e["input"]), e.get("ctx")] for e in exc.errors()]
    return JSONResponse({"errors": errors, "body": repr(exc.body)}, status_code=422)


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


Answer = tuple[int, dict[str, str], bytes]
Sent = tuple[str, dict[str, str], bytes | None]  # path, headers, body


def answered(app: FastAPI, method: str, requests: list[Sent]) -> list[Answer]:
    """The app's answers (status, headers, body) to these requests, sent one after another."""

    async def send() -> list[Answer]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            sent = [
                await client.request(method, path, headers=headers, content=body) for path, headers, body in requests
            ]
        return [(response.status_code, dict(response.headers), response.content) for response in sent]

    return asyncio.run(send())


def answers(app: FastAPI) -> list[Answer]:
    return answered(app, "GET", [(path, headers, None) for path, headers in REQUESTS])


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


def served_directly(handler: Any) -> bool:
    """Whether ContractRoute's handler is the direct one, or wraps it (a route with a body: schemes first)."""
    if handler.__qualname__ == "ContractRoute.get_route_handler.<locals>.authenticated_then_read":
        handler = inspect.getclosurevars(handler).nonlocals["handle"]
    return handler.__qualname__ in ("direct_handler.<locals>.handle", "direct_handler.<locals>.handle_with_body")


def test_every_operation_of_the_service_is_called_directly() -> None:
    from impl.app import create_app
    from impl.settings import Settings

    settings = Settings(database_url="postgresql://unused@127.0.0.1:1/unused", jwt_secret=secrets.token_urlsafe(48))
    routes = [route for route in create_app(settings).routes if isinstance(route, ContractRoute)]
    handlers = {(method, route.path): route.get_route_handler() for route in routes for method in route.methods}
    assert len(handlers) == 10
    assert [operation for operation, handler in handlers.items() if not served_directly(handler)] == []
    assert not served_directly(APIRoute.get_route_handler(routes[0]))


class NoteText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, Field(min_length=1, max_length=5)]


async def write_note(
    caller: Annotated[str, Security(owner)],
    parameters: Annotated[NoteParameters, Depends(parameters_of_notes)],
    body: Annotated[NoteText, Body(media_type="application/json")],
) -> Response:
    if body.text == "gone":
        raise HTTPException(404, "no such notes")
    return JSONResponse({"caller": caller, "owner": parameters.path.owner_id, "text": body.text}, status_code=201)


class DirectRoute(APIRoute):
    """A plain APIRoute (its request a Starlette Request, the body read before any scheme) served directly."""

    def get_route_handler(self) -> Any:
        fastapis = super().get_route_handler()
        direct = direct_handler(self.dependant, fastapis=fastapis, overrides_provider=None, body_field=self.body_field)
        assert direct is not None
        return direct


def note_writing_app(route_class: type[APIRoute], **settings: Any) -> FastAPI:
    app = FastAPI(openapi_url=None, **settings)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.router.add_api_route("/notes/{owner_id}", write_note, methods=["POST"], route_class_override=route_class)
    return app


JSON = {"content-type": "application/json"}
OWNER = {"authorization": "owner"}
BODY_REQUESTS: list[Sent] = [
    ("/notes/ann", OWNER | JSON, b'{"text": "hi"}'),
    ("/notes/ann", OWNER | {"content-type": "application/merge-patch+json; charset=utf-8"}, b'{"text": "hi"}'),
    ("/notes/ann", OWNER | JSON, b'{"text": "gone"}'),
    ("/notes/ann", OWNER | JSON, b'{"text": ""}'),
    ("/notes/ann", OWNER | JSON, b'{"text": "hi", "colour": "red"}'),
    ("/notes/ann", OWNER | JSON, b"null"),
    ("/notes/ann", OWNER | JSON, b"[1, 2]"),
    ("/notes/ann", OWNER | JSON, b""),
    ("/notes/ann", OWNER, b'{"text": "hi"}'),
    ("/notes/ann", OWNER | {"content-type": "text/plain"}, b'{"text": "hi"}'),
    ("/notes/ann", OWNER | JSON, b'{"text": "unterminated'),
    ("/notes/ann", OWNER | JSON, b'{"text": "\xff"}'),
    ("/notes/ANN?limit=0", OWNER | JSON, b'{"text": ""}'),
    ("/notes/ANN?limit=0", OWNER | JSON, b""),
    ("/notes/ANN?limit=0", OWNER | JSON, b"{"),
    ("/notes/ann", JSON, b"{"),
    ("/notes/ANN?limit=0", {"authorization": "someone"} | JSON, b'{"text": ""}'),
]


def body_answers(app: FastAPI) -> list[Answer]:
    return answered(app, "POST", BODY_REQUESTS)


def test_a_route_with_a_json_body_is_served_by_calling_its_dependencies_and_endpoint() -> None:
    [route] = [route for route in note_writing_app(ContractRoute).routes if isinstance(route, ContractRoute)]

    async def fastapis(request: Request) -> Response:
        return Response()

    handler = direct_handler(route.dependant, fastapis=fastapis, overrides_provider=None, body_field=route.body_field)
    assert handler is not None
    assert handler.__qualname__ == "direct_handler.<locals>.handle_with_body"


def test_its_answers_are_fastapis_for_every_body_and_every_refusal() -> None:
    direct = note_writing_app(ContractRoute)
    fastapis = note_writing_app(ContractRoute)
    fastapis.dependency_overrides[str] = str  # any override: FastAPI's own handler serves every request
    expected = body_answers(fastapis)
    statuses = [status for status, _, _ in expected]
    assert statuses == [201, 201, 404, 422, 422, 422, 422, 422, 422, 422, 400, 400, 422, 422, 400, 401, 401]
    assert body_answers(direct) == expected


def test_with_a_plain_request_its_answers_are_fastapis_json_errors_included() -> None:
    # Only a plain Request raises json's own decode error: FastAPI answers it 422 at ("body", <position>).
    expected = body_answers(note_writing_app(APIRoute))
    assert expected[10][0] == 422
    assert b"json_invalid" in expected[10][2]
    assert body_answers(note_writing_app(DirectRoute)) == expected


def test_an_error_while_the_body_is_read_is_fastapis_anonymous_400() -> None:
    async def post(app: FastAPI) -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/notes/ann",
            "raw_path": b"/notes/ann",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"authorization", b"owner"), (b"content-type", b"application/json")],
            "client": ("127.0.0.1", 1),
            "server": ("test", 80),
        }
        answer: list[Message] = []

        async def receive() -> Message:
            raise ConnectionResetError("the client went away")

        async def send(message: Message) -> None:
            answer.append(message)

        await app(scope, receive, send)
        return answer[0]["status"], answer[1]["body"]

    fastapis = note_writing_app(ContractRoute)
    fastapis.dependency_overrides[str] = str
    expected = asyncio.run(post(fastapis))
    assert expected == (400, b'{"detail":"There was an error parsing the body"}')
    assert asyncio.run(post(note_writing_app(ContractRoute))) == expected


def test_a_body_over_fastapis_own_size_limit_is_fastapis_413() -> None:
    # Reading a body past FastAPI(max_body_size=...) raises; the direct calls hand such requests to FastAPI.
    fastapis = note_writing_app(ContractRoute, max_body_size=16)
    fastapis.dependency_overrides[str] = str
    expected = body_answers(fastapis)
    assert [status for status, _, _ in expected][4] == 413  # {"text": "hi", "colour": "red"}: 31 bytes
    assert body_answers(note_writing_app(ContractRoute, max_body_size=16)) == expected


def test_dependency_overrides_of_a_route_with_a_body_are_honoured_through_fastapis_handler() -> None:
    app = note_writing_app(ContractRoute)

    async def bob_with_three() -> NoteParameters:
        return NoteParameters(path=NotePath(owner_id="bob"), query=NoteQuery(limit=3))

    app.dependency_overrides[parameters_of_notes] = bob_with_three
    [status, _, body] = body_answers(app)[0]  # for ann
    assert (status, body) == (201, b'{"caller":"owner","owner":"bob","text":"hi"}')


def test_an_overridden_security_scheme_of_a_route_with_a_body_is_not_settled_first() -> None:
    app = note_writing_app(ContractRoute)

    async def anyone() -> str:
        return "tester"

    app.dependency_overrides[owner] = anyone
    answered = body_answers(app)
    assert answered[0][0] == 201
    [status, _, body] = answered[15]  # no token, a malformed body: the override stands in for the token
    assert (status, json.loads(body)) == (400, {"detail": "The request body is not valid JSON."})


async def embedded_body(caller: Annotated[str, Security(owner)], text: Annotated[str, Body(embed=True)]) -> Response:
    return Response()


async def optional_body(
    caller: Annotated[str, Security(owner)], body: Annotated[NoteText | None, Body()] = None
) -> Response:
    return Response()


async def two_bodies(caller: Annotated[str, Security(owner)], first: NoteText, second: NoteText) -> Response:
    return Response()


async def body_of_a_dependency(note: NoteText) -> str:
    return note.text


async def with_a_dependency_reading_the_body(text: Annotated[str, Depends(body_of_a_dependency)]) -> Response:
    return Response()


@pytest.mark.parametrize("endpoint", [embedded_body, optional_body, two_bodies, with_a_dependency_reading_the_body])
def test_any_other_body_is_left_to_fastapi(endpoint: Any) -> None:
    app = FastAPI(openapi_url=None)
    app.router.add_api_route("/notes/{owner_id}", endpoint, methods=["POST"], route_class_override=ContractRoute)
    [route] = [route for route in app.routes if isinstance(route, ContractRoute)]

    async def fastapis(request: Request) -> Response:
        return Response()

    handler = direct_handler(
        route.dependant,
        fastapis=fastapis,
        overrides_provider=app,
        body_field=route.body_field,
        embed_body_fields=route._embed_body_fields,
    )
    assert handler is None
