"""Swagger UI at /docs, served by the service itself under a strict Content-Security-Policy (decision 0043)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from devtools.live_server import LiveServer
from tests.support.environments import REPORTS, shared_secret_env

# Every URL a page can name in the attributes that load something.
REFERENCED = re.compile(r'(?:src|href)\s*=\s*"([^"]*)"')
ANY_ORIGIN = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]")
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def referenced(html: str) -> list[str]:
    return REFERENCED.findall(html)


def directives(policy: str) -> dict[str, list[str]]:
    parsed = (part.split() for part in policy.split(";") if part.strip())
    return {name.lower(): sources for name, *sources in parsed}


def test_the_page_and_its_own_script_name_no_other_origin(http: httpx.Client) -> None:
    page = http.get("/docs")
    assert page.status_code == 200
    urls = referenced(page.text)
    assert urls, page.text
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert not ANY_ORIGIN.search(page.text), page.text
    scripts = [url for url in urls if url.endswith(".js")]
    own = [http.get(url).text for url in scripts if "swagger-ui" not in url]
    assert own, scripts
    assert all(not ANY_ORIGIN.search(script) for script in own), own


def test_the_page_runs_no_inline_script(http: httpx.Client) -> None:
    page = http.get("/docs").text
    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", page) == [], page
    assert not re.search(r"\son[a-z]+\s*=", page), page


def test_the_pages_policy_allows_scripts_from_the_service_only(http: httpx.Client) -> None:
    response = http.get("/docs")
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    for sources in policy.values():
        assert not [source for source in sources if ANY_ORIGIN.search(source) or source == "*"], policy
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]


def test_every_asset_the_page_loads_is_served_with_its_media_type(http: httpx.Client) -> None:
    for url in referenced(http.get("/docs").text):
        assert url.startswith("/"), url
        response = http.get(url)
        assert response.status_code == 200, url
        extension = url[url.rindex(".") :]
        assert response.headers["content-type"].split(";")[0] == MEDIA_TYPES[extension], url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert len(response.content) > 0


def test_the_page_reads_the_served_contract(http: httpx.Client) -> None:
    page = http.get("/docs").text
    script = next(http.get(url).text for url in referenced(page) if url.endswith(".js") and "swagger-ui" not in url)
    assert '"/openapi.json"' in script
    assert http.get("/openapi.json").status_code == 200


@pytest.fixture(scope="module")
def docs_off(database_url: str) -> Iterator[httpx.Client]:
    live = LiveServer(shared_secret_env(database_url) | {"DOCS_ENABLED": "false"}, log_path=REPORTS / "docs-off.log")
    with httpx.Client(base_url=live.url, timeout=10) as client:
        yield client
    live.stop()


def test_with_the_docs_off_the_page_and_its_assets_are_404(http: httpx.Client, docs_off: httpx.Client) -> None:
    assets = [url for url in referenced(http.get("/docs").text) if url.startswith("/")]
    for path in ["/docs", *assets]:
        assert docs_off.get(path).status_code == 404, path


def test_with_the_docs_off_the_contract_is_still_served(docs_off: httpx.Client) -> None:
    assert docs_off.get("/openapi.yaml").status_code == 200
    assert docs_off.get("/openapi.json").status_code == 200
