"""Every error the service can answer with, rendered as one RFC 9457 problem shape."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote

from asyncpg import InterfaceError, InternalClientError, PostgresError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract_runtime.request_body import MALFORMED_BODY, MalformedBody
from contract_runtime.routing import allowed_methods
from impl.db.errors import UnusableDatabase, database_error_class, is_database_unavailable
from impl.http.entity_tags import NotModified
from impl.http.problems import PROBLEM_JSON, ProblemError, ServiceUnavailable, problem, problem_json
from impl.telemetry.metrics import ServiceMetrics

logger = logging.getLogger("tasks_api.errors")
LOCATION_KINDS = {"path", "query", "header", "cookie"}
# RFC 3986 path characters besides the unreserved ones, which quote() never escapes.
PATH_SAFE = "/:@!$&'()*+,;="
# A 60 KiB body of 6,000 unknown keys would otherwise answer ~380 KB: the answer stays small.
MAX_LISTED_ERRORS = 20
DATABASE_DOWN = ServiceUnavailable("The database is unavailable; retry later.")


def problem_response(
    request: Request, status: int, detail: str, headers: dict[str, str] | None = None, **extensions: Any
) -> Response:
    body = problem_json(problem(status, detail, instance=instance(request), **extensions))
    return Response(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def instance(request: Request) -> str:
    """The request path as a URI reference: percent-encoded again, as the client had to send it."""
    return quote(request.url.path, safe=PATH_SAFE)


def json_pointer(parts: Iterable[Any]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def invalid_input(error: dict[str, Any]) -> dict[str, str]:
    location: Sequence[Any] = error.get("loc", ())
    message = str(error.get("msg", "Invalid value"))
    if location and location[0] in LOCATION_KINDS and len(location) > 1:
        return {"parameter": str(location[1]), "message": message}
    body_path = location[1:] if location and location[0] == "body" else location
    return {"pointer": json_pointer(body_path), "message": message}


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [dict(e) for e in exc.errors()]
    detail = "The request is invalid."
    if len(errors) > MAX_LISTED_ERRORS:
        detail += f" The first {MAX_LISTED_ERRORS} of {len(errors)} invalid inputs are listed."
    listed = [invalid_input(e) for e in errors[:MAX_LISTED_ERRORS]]
    return problem_response(request, 422, detail, errors=listed)


async def on_malformed_body(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MalformedBody)
    return malformed_body_response(request, exc.reason)


def malformed_body_response(request: Request, reason: str) -> Response:
    """The contract's MalformedBody: a validation problem whose one error is the whole body."""
    return problem_response(request, 400, MALFORMED_BODY, errors=[{"pointer": "", "message": reason}])


async def on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(
        request, exc.status, exc.detail, exc.headers, problem_type=exc.type, title=exc.title, **exc.extensions
    )


async def on_not_modified(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotModified)
    return Response(status_code=304, headers={"ETag": exc.etag})


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    detail = exc.detail if isinstance(exc.detail, str) else "The request cannot be served."
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request.app.router.routes, request.scope))
        detail = f"{request.method} is not allowed here; allowed: {headers['Allow']}."
    elif exc.status_code == 404:
        detail = "No such resource."
    elif exc.status_code == 400:
        # The contract's one 400 is MalformedBody; FastAPI raises its own when reading a body fails otherwise.
        return malformed_body_response(request, "The body could not be read as JSON.")
    return problem_response(request, exc.status_code, detail, headers)


def unexpected_error_handler(
    on_database_unavailable: Callable[[], None], metrics: ServiceMetrics | None = None
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if metrics is not None:
            metrics.database_errors.labels(database_error_class(exc)).inc()
        if is_database_unavailable(exc):
            logger.warning("database unavailable: %s", type(exc).__name__)
            on_database_unavailable()
            return await on_problem(request, DATABASE_DOWN)
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "The server failed to handle this request.")

    return on_unexpected


def unusable_database_handler(metrics: ServiceMetrics | None) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def on_unusable_database(request: Request, exc: Exception) -> Response:
        """A database the service will not use is, to clients, one that is not there (decisions 0031, 0034)."""
        if metrics is not None:
            metrics.database_errors.labels(database_error_class(exc)).inc()
        logger.error("database refused: %s", exc)
        return await on_problem(request, DATABASE_DOWN)

    return on_unusable_database


# Database errors reach the handlers install() registers by class; this one answers whatever else escapes.
on_unexpected = unexpected_error_handler(lambda: None)


def install(
    app: FastAPI, *, on_database_unavailable: Callable[[], None] = lambda: None, metrics: ServiceMetrics | None = None
) -> None:
    """Handlers for every error; the database's (which the handlers registered by class receive) are counted."""
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(NotModified, on_not_modified)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(MalformedBody, on_malformed_body)
    # Registered by class so that an outage is answered where the request's context still is.
    on_unexpected = unexpected_error_handler(on_database_unavailable, metrics)
    for error_class in (PostgresError, InterfaceError, InternalClientError, OSError, TimeoutError):
        app.add_exception_handler(error_class, on_unexpected)
    app.add_exception_handler(UnusableDatabase, unusable_database_handler(metrics))


class LastResort:
    """ASGI middleware: any other error becomes a 500 problem, answered inside the request log middleware.

    Starlette's own last resort sits outside every middleware, so its answer would lack the request
    id header and its traceback would bypass our logging.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = await on_unexpected(Request(scope, receive), exc)
            await response(scope, receive, send)
