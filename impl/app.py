"""The composition root: wires the implementation into the generated routing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from generated.api import build_router
from impl import contract, error_handlers
from impl.auth.bearer import BearerAuth
from impl.auth.tokens import TokenVerifier
from impl.database import create_engine
from impl.limits import RequestBodyLimits
from impl.observability import RequestLogMiddleware, configure_logging
from impl.operations import Probes
from impl.settings import Settings, get_settings
from impl.tasks.service import TasksService


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = create_engine(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    configure_logging()
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)
    app.include_router(
        build_router(
            tasks=TasksService(engine),
            operations=Probes(engine),
            security={"bearerAuth": BearerAuth(TokenVerifier(settings), engine)},
        )
    )
    contract.install(app)
    error_handlers.install(app)
    app.add_middleware(error_handlers.LastResort)
    app.add_middleware(RequestBodyLimits, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLogMiddleware)
    return app
