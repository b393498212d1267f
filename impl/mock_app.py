"""The mock's composition root: the generated mock behind the service's HTTP edge and authentication, no database.

Every operation of the spec answers from the spec's examples (generated/mock.py), through the same generated
routes, validation, bearer authentication, problem documents and middlewares as the service (impl/app.py);
the owner rule, quotas and everything else that needs data are the service's and are not here (decision 0058).
"""

from __future__ import annotations

from typing import Protocol

from fastapi import APIRouter, FastAPI

from contract_runtime.mock import PreferHeader
from generated.api import SecuritySchemes
from generated.mock import add_mock_routes
from impl.app import CORS_REQUEST_HEADERS, contract_app, install_http_edge, security_schemes
from impl.http import mock_answers
from impl.settings import Settings, get_settings
from impl.telemetry.logs import configure_logging


class MockRoutes(Protocol):
    """A generated package's `add_mock_routes`."""

    def __call__(self, router: APIRouter, *, security: SecuritySchemes) -> None: ...


def create_mock_app(settings: Settings | None = None, *, routes: MockRoutes = add_mock_routes) -> FastAPI:
    """The mock of every operation; `routes` is another generated package's `add_mock_routes` (for its tests)."""
    settings = settings or get_settings()
    configure_logging()
    app = contract_app()
    routes(app.router, security=security_schemes(settings))
    mock_answers.install(app)
    # Innermost: the Prefer header is read where the mock answers, inside everything the service has around it.
    app.add_middleware(PreferHeader)
    install_http_edge(app, settings, cors_request_headers=(*CORS_REQUEST_HEADERS, "Prefer"))
    return app
