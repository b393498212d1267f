"""Schemathesis, every check and phase, against the real server process: the service keeps its contract.

The same command as `make fuzz` (devtools/fuzz.py), with fewer examples and a fixed seed so that a failure
reproduces; each case carries a token minted for its own `user_id` (devtools/schemathesis_hooks.py). The
same coverage gate too: every documented response produced (or allow-listed in fuzz-unreached.toml),
every link followed (devtools/fuzz_coverage; report in reports/contract-fuzz/coverage.md).
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import httpx
import pytest
from jose import jwt

from devtools import fuzz, fuzz_coverage
from devtools.live_server import ROOT, LiveServer
from tests.support.problems import assert_problem
from tests.support.tokens import AUDIENCE, ISSUER, SHARED_SECRET, bearer, shared_secret_token
from tests.support.users import User

REPORTS = ROOT / "reports"
# Every operation answers 2xx and 4xx and stateful scenarios chain them (about 3000 cases, 60-70 s on 2 cores
# busy with other work, with a second stateful pass when the first missed a link).
MAX_EXAMPLES = 200
SEED = 20261126
TIMEOUT_SECONDS = 600


def assert_schemathesis_passes(
    server: LiveServer, credentials: fuzz.Credentials, *, max_examples: int, name: str
) -> fuzz_coverage.Verdict:
    """Schemathesis finds nothing; the run's coverage report, written beside its JUnit report, judged."""
    report_dir = REPORTS / name
    outcome = fuzz.fuzz(
        server.url,
        credentials,
        max_examples=max_examples,
        report_dir=report_dir,
        seed=SEED,
        # No examples replayed from earlier runs: the seed alone decides what runs.
        example_database="none",
        capture=True,
        timeout=TIMEOUT_SECONDS,
    )
    output_path = report_dir / "output.txt"
    output_path.write_text(outcome.output)
    print(outcome.output)  # pytest shows it when the test fails
    assert outcome.returncode == 0, (
        f"Schemathesis exited with {outcome.returncode}; its output is above and in {output_path}, "
        f"the JUnit report in {report_dir / 'junit.xml'}, the server's log in {REPORTS / 'server.log'}.\n"
        + "\n".join(outcome.output.splitlines()[-40:])
    )
    return outcome.coverage


def test_schemathesis_finds_no_failures_and_covers_the_contract(server: LiveServer) -> None:
    credentials = fuzz.Credentials.minting(SHARED_SECRET, issuer=ISSUER, audience=AUDIENCE)
    coverage = assert_schemathesis_passes(server, credentials, max_examples=MAX_EXAMPLES, name="contract-fuzz")
    report = REPORTS / "contract-fuzz" / fuzz_coverage.MARKDOWN_FILE
    assert coverage.passed, f"Coverage gate failed (report: {report}):\n" + "\n".join(coverage.failures())


def test_a_fixed_token_fuzzes_its_own_user(server: LiveServer) -> None:
    """`make fuzz` against a deployed service: one account's token, so every valid case uses that account.

    Every other user's path is then 403 (when the rest of the request is valid), which fuzz-unreached.toml
    says of the minting run.
    """
    user_id = f"fuzz_{uuid.uuid4().hex[:12]}"
    credentials = fuzz.Credentials.fixed(shared_secret_token(user_id), user_id)
    assert_schemathesis_passes(server, credentials, max_examples=10, name="contract-fuzz-fixed-token")
    report = json.loads((REPORTS / "contract-fuzz-fixed-token" / fuzz_coverage.JSON_FILE).read_text())
    assert report["operations"]["listTasks"]["statuses"]["documented"]["403"]["produced"] > 0


def test_each_case_gets_a_token_for_its_own_user_id() -> None:
    env = fuzz.Credentials.minting(SHARED_SECRET, issuer=ISSUER, audience=AUDIENCE).env
    token = fuzz.token_for("alice", env)
    claims = jwt.decode(token, SHARED_SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
    assert claims["sub"] == "alice"
    assert fuzz.token_for("alice", {"FUZZ_TOKEN": "fixed"}) == "fixed"


def test_credentials_come_from_the_environment() -> None:
    assert fuzz.Credentials.from_environment({"FUZZ_JWT_SECRET": "s", "FUZZ_JWT_ISSUER": "i"}).env == {
        "FUZZ_JWT_SECRET": "s",
        "FUZZ_JWT_ISSUER": "i",
    }
    fixed = {"FUZZ_TOKEN": "t", "FUZZ_USER_ID": "bob"}
    assert fuzz.Credentials.from_environment(fixed).env == fixed
    with pytest.raises(ValueError, match="FUZZ_JWT_SECRET"):
        fuzz.Credentials.from_environment({"FUZZ_TOKEN": "t"})
    with pytest.raises(ValueError, match="user_id pattern"):
        fuzz.Credentials.fixed("t", "not/a user")


# What Schemathesis found, pinned here so that it stays fixed whatever the seed draws.


def test_nul_is_rejected_in_text_fields(alice: User) -> None:
    """PostgreSQL cannot store U+0000: it was a 500; the spec's patterns now exclude it."""
    task = alice.create()
    for method, path, body, pointer in [
        ("POST", alice.tasks_path, {"title": "a\u0000"}, "/title"),
        ("POST", alice.tasks_path, {"title": "a", "description": "\u0000"}, "/description"),
        ("PUT", alice.task_path(task["id"]), {"title": "\u00a5\u0000\u001a"}, "/title"),
        ("PATCH", alice.task_path(task["id"]), {"description": "x\u0000y"}, "/description"),
    ]:
        response = alice.request(method, path, json=body)
        assert response.status_code == 422, (method, body, response.text)
        assert [error["pointer"] for error in response.json()["errors"]] == [pointer]


@pytest.mark.parametrize("title", [" ", "\t\n", "\u3000", "\u0085", "\u00a0\u2028"])
def test_a_title_of_unicode_white_space_only_is_rejected(alice: User, title: str) -> None:
    response = alice.request("POST", alice.tasks_path, json={"title": title})
    assert response.status_code == 422, response.text


def test_a_body_that_is_not_utf8_is_a_malformed_body_problem(alice: User) -> None:
    """It was FastAPI's own 400 without the `errors` list the spec's MalformedBody requires."""
    response = alice.request(
        "POST", alice.tasks_path, content=b'{"title": "\xff\xfe"}', headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, errors=[{"pointer": "", "message": "The body is not UTF-8 text."}])


def test_a_problem_instance_is_the_path_percent_encoded(http: httpx.Client) -> None:
    """It was the decoded path, which is not a URI reference when it holds non-ASCII or control characters."""
    user_id = "\u00d7\u00f8 \u009b"
    response = http.get(f"/api/{quote(user_id)}/tasks", headers=bearer(shared_secret_token(user_id)))
    assert response.status_code == 422
    assert response.json()["instance"] == "/api/%C3%97%C3%B8%20%C2%9B/tasks"
