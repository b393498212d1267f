"""The bench's bare app (bench/bare_app.py) answers every request the bench sends as the service does,
and owes nothing to the service's code."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bench.loadgen import FILTERED
from devtools.live_server import ROOT, LiveServer
from tests.support.database import query as run_sql
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.tokens import bearer, shared_secret_token
from tests.support.users import new_user_id

BARE_APP = ROOT / "bench" / "bare_app.py"
SERVICE_PACKAGES = {"impl", "generated", "contract_runtime", "devtools"}
TAGS = ("work", "urgent", "home")
PRIORITIES = ("low", "medium", "high")


@pytest.fixture(scope="module")
def bare(database_url: str) -> Iterator[httpx.Client]:
    live = LiveServer(
        shared_secret_env(database_url), log_path=REPORTS / "bare-app.log", app=("bench.bare_app:app",), name="bare"
    )
    with httpx.Client(base_url=live.url, timeout=10) as client:
        yield client
    live.stop()


@pytest.fixture(scope="module")
def service(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def anchor() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def owner(service: httpx.Client, anchor: datetime) -> str:
    """A user with 60 tasks, made through the service: every status, priority, a few tags, due dates and
    invoices, so each of the bench's lists and filter combinations has tasks (and pages) to answer with."""
    uid = new_user_id()
    for n in range(60):
        task: dict[str, Any] = {
            "title": f"Pay invoice {n}" if n % 7 == 0 else f"Task {n}",
            "priority": PRIORITIES[n % 3],
            "tags": [TAGS[k] for k in range(3) if (n >> k) & 1],
        }
        if n % 5:
            task["due_at"] = (anchor + timedelta(hours=(n % 11 - 5) * 20, minutes=30)).isoformat()
        created = service.post(f"/api/{uid}/tasks", json=task, headers=headers(uid))
        assert created.status_code == 201, created.text
        if n % 3 == 1:
            toggled = service.patch(f"/api/{uid}/tasks/{created.json()['id']}/complete", headers=headers(uid))
            assert toggled.status_code == 200
    return uid


def headers(uid: str) -> dict[str, str]:
    return bearer(shared_secret_token(uid))


def task_ids(service: httpx.Client, uid: str) -> list[int]:
    page = service.get(
        f"/api/{uid}/tasks", params={"limit": 100, "sort": "created", "order": "asc"}, headers=headers(uid)
    )
    return [task["id"] for task in page.json()["items"]]


def same_shape(service: httpx.Response, bare: httpx.Response) -> None:
    """Same status, same JSON keys (and the same keys in each listed task), same ETag and Location presence.

    A problem document's `request_id` is the one key left out: the bare app keeps no request log."""
    assert bare.status_code == service.status_code, (service.text, bare.text)
    for header in ("etag", "location"):
        assert (header in bare.headers) == (header in service.headers), header
    if service.status_code == 204:
        assert bare.content == service.content == b""
        return
    theirs, ours = service.json(), bare.json()
    if service.headers["content-type"] == "application/problem+json":
        assert bare.headers["content-type"] == "application/problem+json"
        theirs.pop("request_id")  # the bare app keeps no request log, so it has no request ids to name
    assert sorted(ours) == sorted(theirs)
    for mine, its in zip(ours.get("items", []), theirs.get("items", []), strict=True):
        assert sorted(mine) == sorted(its)


def list_queries(anchor: datetime) -> list[str]:
    """What the bench's list workloads ask for: each status's pages, and each filter combination's."""
    plain = [
        f"status={status}&limit=20&offset={offset}"
        for status in ("all", "pending", "completed")
        for offset in (0, 20, 40)
    ]
    filtered = [f"{f.query(anchor)}&limit=20&offset={offset}" for f in FILTERED for offset in (0, 20)]
    return plain + filtered


def test_lists_answer_the_same_pages(service: httpx.Client, bare: httpx.Client, owner: str, anchor: datetime) -> None:
    for query in list_queries(anchor):
        path = f"/api/{owner}/tasks?{query}"
        theirs, ours = service.get(path, headers=headers(owner)), bare.get(path, headers=headers(owner))
        same_shape(theirs, ours)
        assert ours.json() | {"next_cursor": None} == theirs.json() | {"next_cursor": None}, query
        assert (ours.json()["next_cursor"] is None) == (theirs.json()["next_cursor"] is None), query


def test_a_filter_combination_matches_tasks(service: httpx.Client, owner: str, anchor: datetime) -> None:
    # Otherwise the comparison above would only compare empty pages.
    for filtered in FILTERED:
        page = service.get(f"/api/{owner}/tasks?{filtered.query(anchor)}", headers=headers(owner)).json()
        assert page["total"] > 0, filtered.name


def test_get_answers_the_same_task(service: httpx.Client, bare: httpx.Client, owner: str) -> None:
    path = f"/api/{owner}/tasks/{task_ids(service, owner)[3]}"
    theirs, ours = service.get(path, headers=headers(owner)), bare.get(path, headers=headers(owner))
    same_shape(theirs, ours)
    assert ours.json() == theirs.json()
    assert ours.headers["etag"] == theirs.headers["etag"]


def test_create_answers_the_same_shape(service: httpx.Client, bare: httpx.Client, owner: str) -> None:
    body = {"title": "Bench task"}
    path = f"/api/{owner}/tasks"
    theirs, ours = (
        service.post(path, json=body, headers=headers(owner)),
        bare.post(path, json=body, headers=headers(owner)),
    )
    same_shape(theirs, ours)
    assert ours.headers["location"] == f"{path}/{ours.json()['id']}"
    got = service.get(ours.headers["location"], headers=headers(owner))
    assert got.json() == ours.json()  # what the bare app answered is what it stored


def test_update_and_toggle_answer_the_same_shape(service: httpx.Client, bare: httpx.Client, owner: str) -> None:
    first, second = task_ids(service, owner)[10:12]
    for task_id, client in ((first, service), (second, bare)):
        assert client.patch(f"/api/{owner}/tasks/{task_id}", json={"title": "Bench task"}, headers=headers(owner))
    theirs = service.patch(f"/api/{owner}/tasks/{first}", json={"title": "Renamed"}, headers=headers(owner))
    ours = bare.patch(f"/api/{owner}/tasks/{second}", json={"title": "Renamed"}, headers=headers(owner))
    same_shape(theirs, ours)
    assert ours.json()["title"] == "Renamed"
    before = service.get(f"/api/{owner}/tasks/{second}", headers=headers(owner)).json()["completed"]
    theirs = service.patch(f"/api/{owner}/tasks/{first}/complete", headers=headers(owner))
    ours = bare.patch(f"/api/{owner}/tasks/{second}/complete", headers=headers(owner))
    same_shape(theirs, ours)
    assert ours.json()["completed"] is not before


def test_delete_answers_the_same(service: httpx.Client, bare: httpx.Client, owner: str) -> None:
    first, second = task_ids(service, owner)[-2:]
    same_shape(
        service.delete(f"/api/{owner}/tasks/{first}", headers=headers(owner)),
        bare.delete(f"/api/{owner}/tasks/{second}", headers=headers(owner)),
    )
    for task_id in (first, second):  # gone for both
        same_shape(
            service.delete(f"/api/{owner}/tasks/{task_id}", headers=headers(owner)),
            bare.delete(f"/api/{owner}/tasks/{task_id}", headers=headers(owner)),
        )


def test_the_quota_count_is_kept_as_the_service_keeps_it(
    service: httpx.Client, bare: httpx.Client, database_url: str
) -> None:
    uid = new_user_id()
    created = [bare.post(f"/api/{uid}/tasks", json={"title": "T"}, headers=headers(uid)).json()["id"] for _ in range(3)]
    assert bare.delete(f"/api/{uid}/tasks/{created[0]}", headers=headers(uid)).status_code == 204
    assert run_sql(database_url, "SELECT task_count FROM users WHERE id = $1", uid)[0]["task_count"] == 2


@pytest.mark.parametrize(
    ("method", "who"), [("GET", "nobody"), ("GET", "someone else"), ("DELETE", "someone else"), ("POST", "nobody")]
)
def test_refusals_are_the_same_problems(
    service: httpx.Client, bare: httpx.Client, owner: str, method: str, who: str
) -> None:
    sent = {} if who == "nobody" else headers(new_user_id())
    path = f"/api/{owner}/tasks" if method != "DELETE" else f"/api/{owner}/tasks/1"
    body = {"title": "T"} if method == "POST" else None
    theirs = service.request(method, path, headers=sent, json=body)
    ours = bare.request(method, path, headers=sent, json=body)
    same_shape(theirs, ours)


def test_a_task_that_is_not_there_is_404_on_both(service: httpx.Client, bare: httpx.Client, owner: str) -> None:
    path = f"/api/{owner}/tasks/987654321987"
    same_shape(service.get(path, headers=headers(owner)), bare.get(path, headers=headers(owner)))


def test_the_bare_app_imports_nothing_of_the_service() -> None:
    imported = set()
    for node in ast.walk(ast.parse(BARE_APP.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import would reach into the bench package"
            imported.add((node.module or "").split(".")[0])
    assert not imported & (SERVICE_PACKAGES | {"bench"}), sorted(imported & (SERVICE_PACKAGES | {"bench"}))
