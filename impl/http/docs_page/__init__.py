"""Swagger UI at /docs under a strict Content-Security-Policy, every asset served by the service itself.

Swagger UI's files come from the pinned PyPI package swagger-ui-bundle-v2; the page and its initializer
are files here, with no inline script, so the policy allows scripts from the service alone and names no
other origin (decision 0043). DOCS_ENABLED=false leaves all of it out.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from string import Template

from fastapi import FastAPI
from fastapi.responses import Response
from swagger_ui_bundle import swagger_ui_path

HERE = Path(__file__).resolve().parent
# Swagger UI sets styles through the DOM (allowed), draws its icons as data: images, and calls the
# service's own /openapi.json and operations ("Try it out").
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
JAVASCRIPT = "text/javascript; charset=utf-8"
SWAGGER_UI = Path(str(swagger_ui_path))
# Each path under /docs/: its file and media type (with nosniff, a browser runs or applies nothing else).
ASSETS = {
    "swagger-ui-bundle.js": (SWAGGER_UI / "swagger-ui-bundle.js", JAVASCRIPT),
    "swagger-ui.css": (SWAGGER_UI / "swagger-ui.css", "text/css; charset=utf-8"),
    "favicon-32x32.png": (SWAGGER_UI / "favicon-32x32.png", "image/png"),
    "swagger-initializer.js": (HERE / "swagger-initializer.js", JAVASCRIPT),
}


def install(app: FastAPI, title: str) -> None:
    page = Template((HERE / "page.html").read_text()).substitute(title=html.escape(title)).encode()

    async def docs() -> Response:
        return Response(page, media_type="text/html", headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
    for name, (path, media_type) in ASSETS.items():
        endpoint = asset(path.read_bytes(), media_type)
        app.add_api_route(f"/docs/{name}", endpoint, methods=["GET"], include_in_schema=False)


def asset(content: bytes, media_type: str) -> Callable[[], Awaitable[Response]]:
    async def serve() -> Response:
        return Response(content, media_type=media_type)

    return serve
