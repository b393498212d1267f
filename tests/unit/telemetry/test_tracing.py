"""OpenTelemetry traces: a server span per request named by its route template, a child span per SQL statement,
the request id on the span and the trace id in the request's log line; off, nothing of it (decision 0036)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id

from impl.app import create_app
from impl.db.sql import statement_tracing
from impl.settings import Settings
from impl.telemetry.logs import access_log
from impl.telemetry.tracing import TracingMiddleware, tracer_provider_from_environment, tracing_requested
from tests.support.tokens import AUDIENCE, ISSUER, SHARED_SECRET, bearer, shared_secret_token
from tests.support.users import new_user_id

# A trace id a caller sent in W3C's traceparent header: the request's span continues that trace.
CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_TRACEPARENT = f"00-{CALLER_TRACE_ID}-00f067aa0ba902b7-01"


def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, jwt_secret=SHARED_SECRET, jwks_url=None, jwt_issuer=ISSUER, jwt_audience=AUDIENCE
    )


class LogLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def fields(self) -> list[dict[str, object]]:
        return [getattr(record, "fields", {}) for record in self.records]


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    handler = LogLines()
    access_log.addHandler(handler)
    yield handler
    access_log.removeHandler(handler)


async def send(app: FastAPI, method: str, path: str, **options: object) -> httpx.Response:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **options)  # type: ignore[arg-type]


@pytest.fixture
async def traced_list(
    database_url: str, spans: InMemorySpanExporter, log_lines: LogLines
) -> tuple[httpx.Response, list[ReadableSpan]]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    app = create_app(settings(database_url), tracer_provider=provider)
    user = new_user_id()
    response = await send(
        app,
        "GET",
        f"/api/{user}/tasks",
        headers=bearer(shared_secret_token(user)) | {"X-Request-ID": "trace-me-1", "traceparent": CALLER_TRACEPARENT},
    )
    statement_tracing.tracer = None  # the process's other tests run untraced
    return response, list(spans.get_finished_spans())


def server_span(spans: list[ReadableSpan]) -> ReadableSpan:
    [server] = [span for span in spans if span.kind is SpanKind.SERVER]
    return server


async def test_a_request_is_one_server_span_named_by_its_route_template(
    traced_list: tuple[httpx.Response, list[ReadableSpan]],
) -> None:
    response, spans = traced_list
    assert response.status_code == 200
    server = server_span(spans)
    assert server.name == "GET /api/{user_id}/tasks"
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/api/{user_id}/tasks"
    assert server.attributes["http.response.status_code"] == 200


async def test_each_sql_statement_is_a_child_span_of_the_request(
    traced_list: tuple[httpx.Response, list[ReadableSpan]],
) -> None:
    _, spans = traced_list
    server = server_span(spans)
    statements = [span for span in spans if span.kind is SpanKind.CLIENT]
    # A full first page runs the page query alone; an empty list is the last page, so no count.
    assert [span.name for span in statements] == ["SELECT"]
    for statement in statements:
        assert statement.parent is not None
        assert statement.parent.span_id == server.context.span_id
        assert statement.attributes is not None
        assert statement.attributes["db.system.name"] == "postgresql"
        assert "$1" in str(statement.attributes["db.query.text"])


async def test_the_server_span_carries_the_request_id_and_continues_the_callers_trace(
    traced_list: tuple[httpx.Response, list[ReadableSpan]],
) -> None:
    _, spans = traced_list
    server = server_span(spans)
    assert server.attributes is not None
    assert server.attributes["tasks_api.request_id"] == "trace-me-1"
    assert format_trace_id(server.context.trace_id) == CALLER_TRACE_ID


async def test_the_request_log_line_carries_the_trace_id(
    traced_list: tuple[httpx.Response, list[ReadableSpan]], log_lines: LogLines
) -> None:
    _, spans = traced_list
    [line] = [fields for fields in log_lines.fields() if fields.get("request_id") == "trace-me-1"]
    assert line["trace_id"] == format_trace_id(server_span(spans).context.trace_id) == CALLER_TRACE_ID


async def test_a_request_no_route_matches_is_named_by_its_method(
    database_url: str, spans: InMemorySpanExporter
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    app = create_app(settings(database_url), tracer_provider=provider)
    statement_tracing.tracer = None
    response = await send(app, "GET", f"/nowhere/{new_user_id()}")
    assert response.status_code == 404
    [server] = spans.get_finished_spans()
    assert server.name == "GET"


@pytest.mark.parametrize(
    "environment",
    [
        {},
        {"OTEL_SERVICE_NAME": "tasks-api"},
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
        {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
    ],
)
def test_tracing_is_off_unless_an_exporter_is_configured(environment: dict[str, str]) -> None:
    assert not tracing_requested(environment)
    assert tracer_provider_from_environment(environment) is None


@pytest.mark.parametrize(
    "environment",
    [
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"},
        {"OTEL_TRACES_EXPORTER": "console"},
    ],
)
def test_tracing_is_on_with_an_exporter_configured(environment: dict[str, str]) -> None:
    provider = tracer_provider_from_environment(environment)
    assert provider is not None
    provider.shutdown()


def test_an_exporter_the_service_does_not_ship_stops_it_at_start() -> None:
    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER"):
        tracer_provider_from_environment({"OTEL_TRACES_EXPORTER": "jaeger"})


async def test_tracing_off_adds_no_middleware_no_statement_tracer_and_no_log_field(
    database_url: str, log_lines: LogLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(settings(database_url))
    assert all(middleware.cls is not TracingMiddleware for middleware in app.user_middleware)
    assert statement_tracing.tracer is None
    user = new_user_id()
    response = await send(app, "GET", f"/api/{user}/tasks", headers=bearer(shared_secret_token(user)))
    assert response.status_code == 200
    [line] = [fields for fields in log_lines.fields() if fields.get("path") == f"/api/{user}/tasks"]
    assert "trace_id" not in line
