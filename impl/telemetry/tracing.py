"""OpenTelemetry traces: a server span per request named by its route template, a child span per SQL statement.

Off unless the standard OTEL_* settings ask for an exporter: OTEL_EXPORTER_OTLP_ENDPOINT (or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), or OTEL_TRACES_EXPORTER other than `none`; OTEL_SDK_DISABLED=true
wins over both. Off, no tracer provider is built, the SDK is not imported and no request does any
tracing work (decision 0036). The OTLP exporter, the sampler and the resource read their own OTEL_*
settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, StatusCode, Tracer, format_trace_id
from starlette.types import ASGIApp, Receive, Scope, Send

from impl.kit.noted_status import StatusNotingSend
from impl.telemetry.logs import request_id, trace_id

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

SERVICE_NAME = "tasks-api"
# The W3C trace context a caller may send: the span continues the caller's trace.
PROPAGATED_HEADERS = frozenset({b"traceparent", b"tracestate"})


def tracing_requested(environ: Mapping[str, str]) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters:
        return exporters != "none"
    return bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def span_exporters(environ: Mapping[str, str]) -> list[SpanExporter]:
    """OTEL_TRACES_EXPORTER's exporters (default otlp): otlp over HTTP/protobuf, or console."""
    exporters: list[SpanExporter] = []
    for name in (environ.get("OTEL_TRACES_EXPORTER") or "otlp").lower().split(","):
        if name.strip() == "otlp":
            protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
            if protocol not in (None, "", "http/protobuf"):
                raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol}: this service exports http/protobuf only")
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        elif name.strip() == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporters.append(ConsoleSpanExporter())
        elif name.strip() != "none":
            raise ValueError(f"OTEL_TRACES_EXPORTER: {name.strip()!r} is not one of otlp, console, none")
    return exporters


def tracer_provider_from_environment(environ: Mapping[str, str] = os.environ) -> TracerProvider | None:
    """A tracer provider exporting in batches as the OTEL_* settings say, or None when tracing is off."""
    if not tracing_requested(environ):
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; what is given here wins over them.
    named = {} if environ.get("OTEL_SERVICE_NAME") else {"service.name": SERVICE_NAME}
    provider = TracerProvider(resource=Resource.create(named))
    for exporter in span_exporters(environ):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def incoming_context(scope: Scope) -> dict[str, str]:
    return {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in scope["headers"]
        if name in PROPAGATED_HEADERS
    }


class TracingMiddleware:
    """ASGI middleware, outermost: the request's server span, current while the request log line is written."""

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        noting = StatusNotingSend(send)
        # Named by the method until routing has found the template (as OpenTelemetry's own ASGI middleware does).
        with self.tracer.start_as_current_span(
            method,
            context=extract(incoming_context(scope)),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        ) as span:
            noted = trace_id.set(format_trace_id(span.get_span_context().trace_id))
            try:
                await self.app(scope, receive, noting)
            finally:
                trace_id.reset(noted)
                template = getattr(scope.get("route"), "path", None)
                if template is not None:
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
                status = noting.status
                span.set_attribute("http.response.status_code", status)
                if (rid := request_id.get()) is not None:
                    span.set_attribute("tasks_api.request_id", rid)
                if status >= 500:
                    span.set_status(StatusCode.ERROR)
