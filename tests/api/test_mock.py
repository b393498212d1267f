"""`tasks-api mock` (decision 0058): every operation answered from the spec's own examples, with no database,
through the service's generated routes, validation, authentication and problem documents.

A real `tasks-api mock` process, started as an operator (or `make mock`) starts it; what it answers is
compared with openapi/tasks.yaml itself, never restated.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from devtools import fuzz
from devtools.live_server import ROOT
from tests.support import tasks_api_command
from tests.support.clients import READ_STEPS, generate_typescript_types, run_typescript_scenario, scenario_env
from tests.support.environments import REPORTS
from tests.support.problems import assert_problem
from tests.support.tokens import AUDIENCE, ISSUER, SHARED_SECRET, bearer, shared_secret_token

SPEC: dict[str, Any] = yaml.safe_load((ROOT / "openapi" / "tasks.yaml").read_text())
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
MOCK_ENV = {"JWT_SECRET": SHARED_SECRET, "JWT_ISSUER": ISSUER, "JWT_AUDIENCE": AUDIENCE}
USER = "alice"
TASK = "/api/alice/tasks/42"
TASKS = "/api/alice/tasks"
# Schemathesis's examples, coverage and fuzzing phases, with every check that holds without data: the answers'
# statuses, media types, bodies and headers as documented, and the edge's own refusals. Not the stateful
# phase, nor the checks that need the service's rules and data (a deleted task is gone, a stale If-Match is
# 412, another user's tasks are 403), nor negative_data_rejection: tags repeated in a body (`uniqueItems`)
# are refused by the service's rule (decision 0014), not by the generated models the mock has.
CONFORMANCE_PHASES = ("examples", "coverage", "fuzzing")
CONFORMANCE_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
)
CONFORMANCE_EXAMPLES = 30
SEED = 20261207


def resolved(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, item[method])
        for path, item in SPEC["paths"].items()
        for method in HTTP_METHODS
        if method in item
    ]


def success(operation: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    [(code, response)] = [(code, resolved(r)) for code, r in operation["responses"].items() if code.startswith("2")]
    return int(code), response


def examples(response: dict[str, Any]) -> dict[str, Any]:
    """A documented answer's (or request body's) examples by name, in the spec's order."""
    [media] = response.get("content", {"": {"examples": {}}}).values()
    return {name: resolved(example)["value"] for name, example in media["examples"].items()}


def documented_problem(operation_id: str, status: int, name: str | None = None) -> dict[str, Any]:
    [operation] = [op for _, _, op in operations() if op["operationId"] == operation_id]
    answer = examples(resolved(operation["responses"][str(status)]))
    return answer[name] if name else next(iter(answer.values()))


@pytest.fixture(scope="module")
def mock() -> Iterator[tasks_api_command.Serving]:
    command = (tasks_api_command.TASKS_API, "mock", "--host", "127.0.0.1")
    serving = tasks_api_command.Serving(MOCK_ENV, log_path=REPORTS / "mock.log", command=command)
    yield serving
    # uvicorn finishes the requests in flight, then re-raises the SIGTERM, as `tasks-api serve` does.
    assert serving.stop() == -signal.SIGTERM
    assert "Traceback" not in serving.log()


@pytest.fixture(scope="module")
def client(mock: tasks_api_command.Serving) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock.url, headers=bearer(shared_secret_token(USER)), timeout=10) as client:
        yield client


def as_served(problem: dict[str, Any], response: httpx.Response) -> dict[str, Any]:
    """The documented problem as the service renders it: this request's path as instance, its id as request_id."""
    return {**problem, "instance": response.request.url.path, "request_id": response.headers["X-Request-ID"]}


@pytest.mark.parametrize(
    ("method", "path", "operation"), [pytest.param(*op, id=op[2]["operationId"]) for op in operations()]
)
def test_every_operation_answers_its_success_with_its_first_example(
    client: httpx.Client, method: str, path: str, operation: dict[str, Any]
) -> None:
    status, response = success(operation)
    target = path.format(user_id=USER, task_id=42)
    request_body = resolved(operation.get("requestBody", {}))
    body = next(iter(examples(request_body).values())) if request_body else None
    answer = client.request(method.upper(), target, json=body)
    assert answer.status_code == status, answer.text
    if response.get("content"):
        assert answer.json() == next(iter(examples(response).values()))
    for name, header in response.get("headers", {}).items():
        header = resolved(header)
        if header.get("required"):
            assert answer.headers[name] == header["example"], name
        else:
            assert name not in answer.headers, f"{name} is optional: the mock leaves it out"


def test_prefer_example_picks_another_example_of_the_success(client: httpx.Client) -> None:
    answer = client.get(TASKS, headers={"Prefer": "example=empty"})
    assert answer.status_code == 200
    assert answer.json() == {"items": [], "total": 0, "limit": 20, "offset": 0, "next_cursor": None}
    assert client.get(TASK, headers={"Prefer": "example=completed"}).json()["completed"] is True


def test_prefer_code_answers_the_documented_problem_as_the_service_renders_one(client: httpx.Client) -> None:
    answer = client.get("/api/alice/tasks/7", headers={"Prefer": "code=404", "X-Request-ID": "mock-404"})
    problem = assert_problem(answer, 404)
    assert problem == as_served(documented_problem("getTask", 404), answer)
    assert (problem["instance"], problem["request_id"]) == ("/api/alice/tasks/7", "mock-404")


def test_prefer_code_and_example_together_pick_one_example_of_that_status(client: httpx.Client) -> None:
    answer = client.post(
        TASKS, json={"title": "Buy milk"}, headers={"Prefer": "code=422, example=idempotencyKeyReused"}
    )
    assert assert_problem(answer, 422) == as_served(
        documented_problem("createTask", 422, "idempotencyKeyReused"), answer
    )


def test_an_example_name_alone_finds_the_answer_that_has_it(client: httpx.Client) -> None:
    answer = client.post(TASKS, json={"title": "Buy milk"}, headers={"Prefer": "example=idempotencyKeys"})
    problem = assert_problem(answer, 409, problem_type="tag:tasks-api,2026:idempotency-key-quota-reached")
    assert problem["limit"] == 10000


def test_prefer_code_304_answers_the_documented_etag_and_no_body(client: httpx.Client) -> None:
    answer = client.get(TASK, headers={"Prefer": "code=304"})
    assert (answer.status_code, answer.headers["ETag"], answer.content) == (304, '"3"', b"")


def test_prefer_code_401_answers_the_documented_401_to_a_valid_token(client: httpx.Client) -> None:
    answer = client.get(TASKS, headers={"Prefer": "code=401"})
    assert_problem(answer, 401)
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_without_a_valid_token_the_mock_refuses_as_the_service_does_whatever_is_preferred(
    mock: tasks_api_command.Serving,
) -> None:
    missing = httpx.get(f"{mock.url}{TASKS}", headers={"Prefer": "example=empty"})
    assert assert_problem(missing, 401)["detail"] == "A bearer token is required."
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    forged = httpx.get(f"{mock.url}{TASKS}", headers=bearer(shared_secret_token(USER, secret="x" * 48)))
    assert_problem(forged, 401)
    assert forged.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    expired = httpx.get(f"{mock.url}{TASKS}", headers=bearer(shared_secret_token(USER, exp=1)))
    assert_problem(expired, 401)


def invalid_inputs(problem: dict[str, Any]) -> list[str]:
    return [error.get("parameter", error.get("pointer")) for error in problem["errors"]]


def test_requests_are_validated_before_any_example_is_chosen(client: httpx.Client) -> None:
    preferred = {"Prefer": "example=empty"}
    assert invalid_inputs(assert_problem(client.get(TASKS, params={"limit": 500}, headers=preferred), 422)) == ["limit"]
    assert invalid_inputs(assert_problem(client.post(TASKS, json={"title": ""}, headers=preferred), 422)) == ["/title"]
    assert invalid_inputs(assert_problem(client.get("/api/alice/tasks/0"), 422)) == ["task_id"]
    assert_problem(client.post(TASKS, content=b"{", headers={"Content-Type": "application/json"}), 400)
    assert_problem(client.post(TASKS, content=b"milk", headers={"Content-Type": "text/plain"}), 415)
    assert_problem(client.get("/api/alice/nothing"), 404)


def test_an_undocumented_code_is_a_422_naming_the_header_and_the_documented_codes(client: httpx.Client) -> None:
    answer = client.get(TASK, headers={"Prefer": "code=418"})
    problem = assert_problem(answer, 422)
    assert invalid_inputs(problem) == ["Prefer"]
    assert problem["errors"][0]["message"] == (
        "code=418 is not documented for getTask; documented: 200, 304, 401, 403, 404, 422, 503"
    )


def test_an_unknown_example_is_a_422_listing_the_examples(client: httpx.Client) -> None:
    problem = assert_problem(client.get(TASKS, headers={"Prefer": "example=nope"}), 422)
    message = problem["errors"][0]["message"]
    assert message.startswith("example=nope is not an example of its answers (listTasks); examples: 200: page, empty;")
    assert "422: invalid, idempotencyKeyReused" in message


def test_the_owner_rule_is_left_to_the_service(client: httpx.Client) -> None:
    """The mock authenticates; who may read whose tasks is TasksService's rule, which the mock does not have."""
    assert client.get("/api/bob/tasks").status_code == 200
    assert_problem(client.get("/api/bob/tasks", headers={"Prefer": "code=403"}), 403)


def test_the_probes_answer_ok_with_no_database(mock: tasks_api_command.Serving) -> None:
    for probe in ("/healthz", "/readyz"):
        answer = httpx.get(f"{mock.url}{probe}")
        assert (answer.status_code, answer.json()) == (200, {"status": "ok"}), probe
    assert_problem(httpx.get(f"{mock.url}/readyz", headers={"Prefer": "code=503"}), 503)


def test_the_contract_it_answers_from_is_served_beside_it(mock: tasks_api_command.Serving) -> None:
    assert yaml.safe_load(httpx.get(f"{mock.url}/openapi.yaml").text) == SPEC
    assert httpx.get(f"{mock.url}/docs").status_code == 200


def test_make_mock_accepts_the_tokens_make_token_mints() -> None:
    """`make mock` (devtools.mock) and `make token` (devtools.token) with no auth configured: the development secret."""
    serving = tasks_api_command.Serving(
        {}, log_path=REPORTS / "make-mock.log", command=(sys.executable, "-m", "devtools.mock")
    )
    try:
        answer = httpx.get(f"{serving.url}{TASKS}", headers=bearer(make_token(USER)))
        assert answer.status_code == 200, answer.text
        assert f"Uvicorn running on {serving.url}" in serving.log()
    finally:
        assert serving.stop() == -signal.SIGTERM


def make_token(user_id: str) -> str:
    """What `make -s token USER_ID=...` prints, with no auth configured."""
    result = subprocess.run(
        [sys.executable, "-m", "devtools.token", user_id],
        cwd=ROOT,
        env=tasks_api_command.environment({}),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_schemathesis_finds_the_mock_conformant_to_the_contract(mock: tasks_api_command.Serving) -> None:
    """Statuses, media types, bodies and headers as documented, and the edge's refusals (401 without a token,
    405 with Allow) as the service's, for what Schemathesis generates from the spec."""
    report_dir = REPORTS / "mock-conformance"
    result = fuzz.run(
        mock.url,
        fuzz.Credentials.minting(SHARED_SECRET, issuer=ISSUER, audience=AUDIENCE),
        max_examples=CONFORMANCE_EXAMPLES,
        report_dir=report_dir,
        seed=SEED,
        example_database="none",
        capture=True,
        timeout=600,
        phases=CONFORMANCE_PHASES,
        checks=CONFORMANCE_CHECKS,
    )
    (report_dir / "output.txt").write_text(result.stdout)
    assert result.returncode == 0, "\n".join(result.stdout.splitlines()[-60:])


def test_the_typescript_clients_read_steps_run_against_the_mock(mock: tasks_api_command.Serving) -> None:
    generate_typescript_types()
    env = scenario_env(mock.url, USER, shared_secret_token(USER), "bob")
    steps = {step["step"]: step for step in run_typescript_scenario(env, script="scenario/reads.ts")}
    assert [(name, step["status"]) for name, step in steps.items()] == READ_STEPS
    page = examples(success(SPEC["paths"]["/api/{user_id}/tasks"]["get"])[1])["page"]
    task = examples(success(SPEC["paths"]["/api/{user_id}/tasks/{task_id}"]["get"])[1])["task"]
    assert (steps["list"]["total"], steps["list"]["first"]) == (page["total"], page["items"][0]["id"])
    assert (steps["get"]["id"], steps["get"]["title"]) == (task["id"], task["title"])
    assert steps["tags"]["tags"] == ["home:3", "urgent:1"]
