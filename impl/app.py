"""The composition root: wires the implementation into the generated routing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig
from starlette.middleware.cors import CORSMiddleware

from generated.api import SecuritySchemes, add_routes
from impl.auth.bearer import BearerAuth
from impl.auth.tokens import TokenVerifier
from impl.db.connection_budget import check_connection_budget
from impl.db.database import Database
from impl.db.sql import statement_tracing
from impl.http import contract, error_handlers
from impl.http.limits import RequestLimits
from impl.idempotency.purge import ExpiredKeyPurge
from impl.idempotency.replays import IDEMPOTENCY_KEY_TTL_SECONDS
from impl.kit.heap import freeze_startup_heap
from impl.probes import Probes
from impl.settings import Settings, get_settings
from impl.tasks.endpoints import TasksEndpoints
from impl.tasks.service import TasksService
from impl.telemetry.logs import RequestLogMiddleware, configure_logging
from impl.telemetry.metrics import RequestMetricsMiddleware, ServiceMetrics, worker_stopped
from impl.telemetry.metrics_writer import MetricsWriter
from impl.telemetry.tracing import TracingMiddleware, tracer_provider_from_environment

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Tracer
    from starlette.types import Lifespan

# The request headers the spec's operations take, and the response headers it promises. WWW-Authenticate
# tells a missing token (`Bearer`) from a refused one (`error="invalid_token"`) without reading the body.
CORS_REQUEST_HEADERS = ("Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key", "X-Request-ID")
CORS_EXPOSED_HEADERS = (
    "ETag",
    "Location",
    "X-Request-ID",
    "Idempotent-Replayed",
    "Retry-After",
    "WWW-Authenticate",
    # What a deprecated operation, parameter or property answers with (decision 0059).
    "Deprecation",
    "Sunset",
    "Link",
)
FASTAPI_TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def operation_methods(app: FastAPI) -> list[str]:
    """The methods of the spec's operations (and of the served contract's pages, all GET)."""
    return sorted({method for route in app.routes if isinstance(route, APIRoute) for method in route.methods or ()})


def create_app(settings: Settings | None = None, *, tracer_provider: TracerProvider | None = None) -> FastAPI:
    """The service; traced by `tracer_provider` when given, else as the OTEL_* settings say (off when unset)."""
    settings = settings or get_settings()
    database = Database(settings, on_first_answer=check_connection_budget)
    purge = ExpiredKeyPurge(
        database, interval_seconds=settings.idempotency_purge_interval_seconds, ttl_seconds=IDEMPOTENCY_KEY_TTL_SECONDS
    )
    metrics = ServiceMetrics() if settings.metrics_port is not None else None
    metrics_writer = MetricsWriter(database, metrics) if metrics is not None else None
    tracer_provider = tracer_provider or tracer_provider_from_environment()
    tracer = tracer_provider.get_tracer("tasks-api") if tracer_provider is not None else None
    statement_tracing.tracer = tracer

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        freeze_startup_heap()
        purge.start()
        if metrics_writer is not None:
            metrics_writer.start()
        yield
        if metrics_writer is not None:
            await metrics_writer.stop()
            worker_stopped()
        await purge.stop()
        await database.close()
        if tracer_provider is not None:
            tracer_provider.shutdown()  # exports the spans still batched

    configure_logging()
    app = contract_app(lifespan)
    add_routes(
        app.router,
        tasks=TasksEndpoints(
            TasksService(
                database,
                max_tasks_per_user=settings.max_tasks_per_user,
                max_idempotency_keys_per_user=settings.max_idempotency_keys_per_user,
            )
        ),
        operations=Probes(database, readiness_db_check_seconds=settings.readiness_db_check_seconds),
        security=security_schemes(settings, metrics),
    )
    install_http_edge(app, settings, metrics=metrics, tracer=tracer, on_database_unavailable=database.forget_answers)
    return app


def contract_app(lifespan: Lifespan[FastAPI] | None = None) -> FastAPI:
    """An application for the generated routes: no docs or schema of FastAPI's own, no redirects."""
    # FastAPI's own OpenTelemetry instrumentation stays off: impl/telemetry/tracing.py traces (decision 0036), and the
    # instrumentation asks for the global providers on every request even when none is set (decision 0037).
    # No trailing-slash redirects: Starlette builds them from the request's Host, before any route's
    # security runs; a path the contract does not name is a 404 problem like any other (decision 0042).
    return FastAPI(
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        telemetry=FASTAPI_TELEMETRY_OFF,
        redirect_slashes=False,
    )


def security_schemes(settings: Settings, metrics: ServiceMetrics | None = None) -> SecuritySchemes:
    """The checks of the spec's security schemes: bearer JWTs as the settings say."""
    return {"bearerAuth": BearerAuth(TokenVerifier(settings, metrics))}


def install_http_edge(
    app: FastAPI,
    settings: Settings,
    *,
    metrics: ServiceMetrics | None = None,
    tracer: Tracer | None = None,
    on_database_unavailable: Callable[[], None] = lambda: None,
    cors_request_headers: Sequence[str] = CORS_REQUEST_HEADERS,
) -> None:
    """The served contract, every error as a problem, and the middlewares around the routes, innermost first."""
    contract.install(app, docs=settings.docs_enabled)
    error_handlers.install(app, on_database_unavailable=on_database_unavailable, metrics=metrics)
    app.add_middleware(error_handlers.LastResort)
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origin_list:
        # Outside the request limits (a browser may read its 413/415) and auth, inside the request log.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=operation_methods(app),
            allow_headers=list(cors_request_headers),
            expose_headers=list(CORS_EXPOSED_HEADERS),
            allow_credentials=False,
            max_age=600,
        )
    if metrics is not None:
        # Inside the request log, outside everything that may refuse a request, so refusals are counted too.
        app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestLogMiddleware)
    if tracer is not None:
        # Outermost: the span is current while the log line (with its trace id) is written.
        app.add_middleware(TracingMiddleware, tracer=tracer)
