"""Serving the hand-written contract itself: /openapi.yaml, /openapi.json and, unless turned off, /docs."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from fastapi import FastAPI
from fastapi.responses import Response

from impl.http import docs_page

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "tasks.yaml"


def install(app: FastAPI, spec_path: Path = SPEC_PATH, *, docs: bool = True) -> None:
    spec_yaml = spec_path.read_bytes()
    spec_json = json.dumps(yaml.safe_load(spec_yaml)).encode()
    title = str(yaml.safe_load(spec_yaml)["info"]["title"])

    async def openapi_yaml() -> Response:
        return Response(spec_yaml, media_type="application/yaml")

    async def openapi_json() -> Response:
        return Response(spec_json, media_type="application/json")

    for path, endpoint in (("/openapi.yaml", openapi_yaml), ("/openapi.json", openapi_json)):
        app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False)
    if docs:
        docs_page.install(app, title)
