"""Serving the hand-written contract itself: /openapi.yaml, /openapi.json and Swagger UI at /docs."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi" / "tasks.yaml"


def install(app: FastAPI, spec_path: Path = SPEC_PATH) -> None:
    spec_yaml = spec_path.read_bytes()
    spec_json = json.dumps(yaml.safe_load(spec_yaml)).encode()
    title = str(yaml.safe_load(spec_yaml)["info"]["title"])

    async def openapi_yaml() -> Response:
        return Response(spec_yaml, media_type="application/yaml")

    async def openapi_json() -> Response:
        return Response(spec_json, media_type="application/json")

    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{title} - Swagger UI")

    for path, endpoint in (("/openapi.yaml", openapi_yaml), ("/openapi.json", openapi_json), ("/docs", swagger_ui)):
        app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False)
