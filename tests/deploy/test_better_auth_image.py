"""Better Auth's image and compose.yaml's better-auth profile, run as they say (decision 0038).

As tests/deploy/test_image.py does for the API's image: nothing is restated. better-auth/Dockerfile is replayed
into a temporary folder (tests/support/node_image_replica.py: its COPY lines, `npm ci --omit=dev`),
compose.yaml is read with the variables `--env-file compose.better-auth.env` gives it, and the profile's
`better-auth-migrate` command and the image's command run with the image's ENV and compose's
environment, as the image's non-root USER, against PostgreSQL 17 over TCP with a password, in the role
and database compose's `better-auth-postgres` service would create. A real tasks-api runs with the auth
settings compose gives the `api` service. Host names move to 127.0.0.1 and ports to free ones, as
compose's network and port mappings would have them; nothing else changes.
"""

from __future__ import annotations

import asyncio
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

import asyncpg
import httpx
import pytest

from devtools.live_server import ROOT, LiveServer, free_port, stop_process, wait_until_answering
from impl.auth.tokens import TokenVerifier
from impl.settings import Settings
from tests.support import compose, forge
from tests.support.better_auth import PASSWORD
from tests.support.database import plain_dsn, query
from tests.support.environments import REPORTS
from tests.support.node_image_replica import NodeImageReplica
from tests.support.throwaway_postgres import ThrowawayPostgres, oldest_supported_bin_dir, throwaway_postgres
from tests.support.tokens import bearer

ENV_FILE = ROOT / "compose.better-auth.env"
PROFILE = "better-auth"
AUTH_SERVICE, MIGRATE_SERVICE, AUTH_DATABASE_SERVICE = "better-auth", "better-auth-migrate", "better-auth-postgres"
FRONTEND = "http://localhost:5173"
PUBLIC_URL = "http://localhost:3000"
PROXY = "127.0.0.20"
# What an operator exports before `docker compose --env-file compose.better-auth.env up`.
OPERATOR_ENVIRONMENT = {
    "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
    "BETTER_AUTH_POSTGRES_PASSWORD": secrets.token_urlsafe(16),
    "BETTER_AUTH_SECRET": secrets.token_urlsafe(32),
    "BETTER_AUTH_URL": PUBLIC_URL,
    "BETTER_AUTH_TRUSTED_ORIGINS": FRONTEND,
}
BETTER_AUTH_TABLES = {"user", "session", "account", "verification", "jwks"}


def profile_variables(environment: dict[str, str] = OPERATOR_ENVIRONMENT) -> dict[str, str]:
    return compose.env_file(ENV_FILE, environment)


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    variables = profile_variables()
    return compose.services_to_run(compose.load(ROOT / "compose.yaml", variables), variables["COMPOSE_PROFILES"])


@pytest.fixture(scope="module")
def replica(services: dict[str, Any]) -> Iterator[NodeImageReplica]:
    assert services[AUTH_SERVICE]["build"] == services[MIGRATE_SERVICE]["build"] == "better-auth"
    replica = NodeImageReplica(ROOT / services[AUTH_SERVICE]["build"] / "Dockerfile")
    root = Path(tempfile.mkdtemp(prefix="better-auth-image-"))  # not under pytest's tmp: private to root
    try:
        started = time.monotonic()
        replica.build(root)
        REPORTS.mkdir(exist_ok=True)
        (REPORTS / "better-auth-image-summary.txt").write_text(
            f"better-auth image replica: /app built as its Dockerfile does in {time.monotonic() - started:.1f} s\n"
        )
        yield replica
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def auth_database(services: dict[str, Any]) -> Iterator[ThrowawayPostgres]:
    """What the postgres image makes of the better-auth-postgres service's settings."""
    with throwaway_postgres(oldest_supported_bin_dir()) as server:
        service = services[AUTH_DATABASE_SERVICE]
        assert service["image"] == f"postgres:{server.major}"
        settings = compose.environment(service)
        user, password, database = settings["POSTGRES_USER"], settings["POSTGRES_PASSWORD"], settings["POSTGRES_DB"]
        admin = server.url(query="")
        query(admin, f"CREATE ROLE \"{user}\" LOGIN SUPERUSER PASSWORD '{password}'")
        query(admin, f'CREATE DATABASE "{database}" OWNER "{user}"')
        yield server


def moved(url: str, service: str, port: int) -> str:
    """`url` naming compose's `service`, pointed at 127.0.0.1:port instead (credentials and path kept)."""
    parts = urlsplit(url)
    assert parts.hostname == service, f"{url} names compose's {service} service"
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{port}"))


def auth_env(services: dict[str, Any], service: str, database: ThrowawayPostgres) -> dict[str, str]:
    env = compose.environment(services[service])
    env["DATABASE_URL"] = moved(env["DATABASE_URL"], AUTH_DATABASE_SERVICE, database.port)
    return env


def migrate(replica: NodeImageReplica, services: dict[str, Any], database: ThrowawayPostgres) -> str:
    env = replica.env(auth_env(services, MIGRATE_SERVICE, database))
    result = replica.run(replica.command(compose.command(services, MIGRATE_SERVICE)), env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def first_migration(replica: NodeImageReplica, services: dict[str, Any], auth_database: ThrowawayPostgres) -> str:
    return migrate(replica, services, auth_database)


class AuthServer:
    """The better-auth service: the image's command on a free port (PORT moved, as a port mapping would)."""

    def __init__(self, replica: NodeImageReplica, env: dict[str, str], argv: list[str], log_path: Path) -> None:
        self.replica, self.argv, self.log_path = replica, argv, log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env | {"PORT": str(self.port)}
        log_path.unlink(missing_ok=True)  # each start appends: the log holds every run of this server
        self.process = self.start()

    def start(self) -> subprocess.Popen[bytes]:
        process = self.replica.start(self.argv, self.env, self.log_path)
        try:
            wait_until_answering(process, f"{self.url}/api/auth/ok", name="Better Auth's image command", log=self.log)
        except RuntimeError:
            stop_process(process)
            raise
        return process

    def restart(self) -> float:
        """SIGTERM, then the same command again; the seconds it took to stop."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=10) == 0, self.log()
        stopped = time.monotonic() - started
        self.process = self.start()
        return stopped

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, address: str, origin: str = PUBLIC_URL) -> httpx.Client:
        """A browser at `address` (127.x.y.z: its own loopback address, as each client has its own) on
        `origin`; Better Auth checks Origin on every cookie-setting POST and rate-limits per address."""
        transport = httpx.HTTPTransport(local_address=address)
        return httpx.Client(base_url=self.url, headers={"Origin": origin}, transport=transport, timeout=10)


@pytest.fixture(scope="module")
def auth_server(
    replica: NodeImageReplica, services: dict[str, Any], auth_database: ThrowawayPostgres, first_migration: str
) -> Iterator[AuthServer]:
    env = replica.env(auth_env(services, AUTH_SERVICE, auth_database))
    server = AuthServer(
        replica, env, replica.command(compose.command(services, AUTH_SERVICE)), REPORTS / "better-auth-image.log"
    )
    yield server
    stop_process(server.process)


@pytest.fixture(scope="module")
def proxied_auth_server(
    replica: NodeImageReplica, services: dict[str, Any], auth_database: ThrowawayPostgres, first_migration: str
) -> Iterator[AuthServer]:
    """The better-auth service behind a load balancer at PROXY that sets X-Forwarded-For."""
    env = replica.env(auth_env(services, AUTH_SERVICE, auth_database), {"BETTER_AUTH_TRUSTED_PROXIES": f"{PROXY}/32"})
    command = replica.command(compose.command(services, AUTH_SERVICE))
    server = AuthServer(replica, env, command, REPORTS / "better-auth-image-proxied.log")
    yield server
    stop_process(server.process)


def api_auth_env(services: dict[str, Any], auth_server: AuthServer) -> dict[str, str]:
    """The auth settings compose gives the api service, its JWKS_URL moved to where the auth server listens."""
    env = compose.environment(services["api"])
    settings = {name: env[name] for name in ("JWT_SECRET", "JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE")}
    settings["JWKS_URL"] = moved(settings["JWKS_URL"], AUTH_SERVICE, auth_server.port)
    return settings | {"BETTER_AUTH_SECRET": ""}  # the service reads it too; compose gives the api none


@pytest.fixture(scope="module")
def api(services: dict[str, Any], auth_server: AuthServer, database_url: str) -> Iterator[httpx.Client]:
    env = {"DATABASE_URL": database_url, **api_auth_env(services, auth_server)}
    server = LiveServer(env, log_path=REPORTS / "server-better-auth-image.log")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client
    server.stop()


def sign_up_response(browser: httpx.Client) -> httpx.Response:
    email = f"{secrets.token_hex(6)}@example.com"
    return browser.post("/api/auth/sign-up/email", json={"name": "Ada", "email": email, "password": PASSWORD})


def sign_up(auth_server: AuthServer, address: str, origin: str = PUBLIC_URL) -> tuple[str, str, str]:
    """A new user signed up from `address` on `origin`: (id, email, token from /api/auth/token)."""
    with auth_server.client(address, origin) as browser:
        response = sign_up_response(browser)
        assert response.status_code == 200, response.text
        token = browser.get("/api/auth/token")
        assert token.status_code == 200, token.text
        return str(response.json()["user"]["id"]), str(response.json()["user"]["email"]), str(token.json()["token"])


def sign_in(auth_server: AuthServer, address: str, email: str) -> str:
    with auth_server.client(address) as browser:
        response = browser.post("/api/auth/sign-in/email", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        token = browser.get("/api/auth/token")
        assert token.status_code == 200, token.text
        return str(token.json()["token"])


def verified_subject(
    services: dict[str, Any], auth_server: AuthServer, token: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The token's user as a tasks-api that has never fetched the keys before sees it."""
    for name, value in api_auth_env(services, auth_server).items():
        monkeypatch.setenv(name, value)
    return asyncio.run(TokenVerifier(Settings(_env_file=None)).subject(token))


# --- compose: the profile and its variables --------------------------------------------------------


def test_the_profile_adds_better_auth_with_its_own_database_beside_the_default_stack(services: dict[str, Any]) -> None:
    default = compose.load(ROOT / "compose.yaml", {"POSTGRES_PASSWORD": "p", "JWT_SECRET": "s" * 48})
    assert set(compose.services_to_run(default, "")) == {"postgres", "migrate", "api"}
    assert set(services) == {"postgres", "migrate", "api", AUTH_DATABASE_SERVICE, MIGRATE_SERVICE, AUTH_SERVICE}
    assert urlsplit(compose.environment(services[AUTH_SERVICE])["DATABASE_URL"]).hostname == AUTH_DATABASE_SERVICE
    assert services[MIGRATE_SERVICE]["depends_on"] == {AUTH_DATABASE_SERVICE: {"condition": "service_healthy"}}
    assert services[AUTH_SERVICE]["depends_on"] == {MIGRATE_SERVICE: {"condition": "service_completed_successfully"}}


@pytest.mark.parametrize("variable", ["BETTER_AUTH_POSTGRES_PASSWORD", "BETTER_AUTH_SECRET", "BETTER_AUTH_URL"])
def test_the_profiles_env_file_requires_its_secrets_and_url(variable: str) -> None:
    environment = {name: value for name, value in OPERATOR_ENVIRONMENT.items() if name != variable}
    with pytest.raises(compose.MissingVariable, match=f"^{variable}: set {variable}"):
        profile_variables(environment)


def test_the_profile_puts_the_api_in_jwks_mode_against_the_auth_service(
    services: dict[str, Any], replica: NodeImageReplica
) -> None:
    api = compose.environment(services["api"])
    public_url = OPERATOR_ENVIRONMENT["BETTER_AUTH_URL"]
    port = replica.env(compose.environment(services[AUTH_SERVICE]))["PORT"]
    assert api["JWT_SECRET"] == ""
    assert api["JWKS_URL"] == f"http://{AUTH_SERVICE}:{port}/api/auth/jwks"
    assert api["JWT_ISSUER"] == api["JWT_AUDIENCE"] == public_url
    assert compose.environment(services[AUTH_SERVICE])["BETTER_AUTH_URL"] == public_url
    assert services[AUTH_SERVICE]["ports"] == [f"{port}:{port}"]


# --- migrate, serve, and the api accepting its tokens ----------------------------------------------


def test_migrate_creates_better_auths_tables_and_a_second_run_changes_nothing(
    first_migration: str, replica: NodeImageReplica, services: dict[str, Any], auth_database: ThrowawayPostgres
) -> None:
    assert all(f"created table {table}" in first_migration for table in BETTER_AUTH_TABLES), first_migration
    assert migrate(replica, services, auth_database).strip() == "better-auth migrate: the schema is up to date"
    url = auth_env(services, MIGRATE_SERVICE, auth_database)["DATABASE_URL"]
    tables = {
        row["table_name"]
        for row in query(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
    }
    assert tables == BETTER_AUTH_TABLES


def migration_lock_key(replica: NodeImageReplica) -> int:
    assert replica.app is not None
    found = re.search(r"^const MIGRATION_LOCK = ([\d_]+);$", (replica.app / "server.mjs").read_text(), re.MULTILINE)
    assert found, "server.mjs names its advisory lock MIGRATION_LOCK"
    return int(found.group(1).replace("_", ""))


def test_migrations_started_at_once_take_turns_and_both_succeed(
    replica: NodeImageReplica, services: dict[str, Any], auth_database: ThrowawayPostgres
) -> None:
    """Two releases rolled out at once, or a retried one-shot job, on a new database: while another
    migration holds the lock neither starts; then one creates the tables and the other finds them."""
    env = auth_env(services, MIGRATE_SERVICE, auth_database)
    url = urlsplit(env["DATABASE_URL"])
    query(urlunsplit(url), 'CREATE DATABASE "better_auth_twice"')
    env["DATABASE_URL"] = urlunsplit(url._replace(path="/better_auth_twice"))
    argv = replica.command(compose.command(services, MIGRATE_SERVICE))
    logs = [REPORTS / f"better-auth-migrate-{number}.log" for number in (1, 2)]

    async def migrate_twice_while_the_lock_is_held() -> list[int | None]:
        holder = await asyncpg.connect(plain_dsn(env["DATABASE_URL"]))
        try:
            await holder.execute("SELECT pg_advisory_lock($1)", migration_lock_key(replica))
            for log in logs:
                log.unlink(missing_ok=True)
            runs = [replica.start(argv, replica.env(env), log) for log in logs]
            await asyncio.sleep(3)
            waiting = [run.poll() for run in runs]
        finally:
            await holder.close()
        assert [run.wait(timeout=60) for run in runs] == [0, 0], [log.read_text() for log in logs]
        return waiting

    assert asyncio.run(migrate_twice_while_the_lock_is_held()) == [None, None], [log.read_text() for log in logs]
    outputs = sorted(log.read_text().strip() for log in logs)
    assert outputs[1] == "better-auth migrate: the schema is up to date", outputs
    assert all(f"created table {table}" in outputs[0] for table in BETTER_AUTH_TABLES), outputs


def test_it_serves_as_the_images_non_root_user_and_its_healthcheck_passes(
    auth_server: AuthServer, replica: NodeImageReplica
) -> None:
    status = Path(f"/proc/{auth_server.process.pid}/status").read_text()
    uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert uid == replica.user.uid != 0
    healthcheck = replica.stage.healthcheck
    assert healthcheck is not None
    assert replica.run(healthcheck.command, auth_server.env, timeout=5).returncode == 0
    assert replica.run(healthcheck.command, replica.env({"PORT": str(free_port())}), timeout=5).returncode != 0


def test_a_user_signed_up_there_creates_a_task_in_the_api_with_its_token(
    auth_server: AuthServer, api: httpx.Client
) -> None:
    user_id, _, token = sign_up(auth_server, "127.0.0.11")
    claims = forge.claims_of(token)
    assert claims["sub"] == user_id
    assert claims["iss"] == claims["aud"] == OPERATOR_ENVIRONMENT["BETTER_AUTH_URL"]
    created = api.post(f"/api/{user_id}/tasks", json={"title": "Ship the profile"}, headers=bearer(token))
    assert created.status_code == 201, created.text
    listed = api.get(f"/api/{user_id}/tasks", headers=bearer(token))
    assert [task["title"] for task in listed.json()["items"]] == ["Ship the profile"]


def test_the_frontends_origin_may_sign_users_up_and_another_may_not(auth_server: AuthServer) -> None:
    sign_up(auth_server, "127.0.0.12", origin=FRONTEND)
    with auth_server.client("127.0.0.13", origin="http://evil.example") as browser:
        response = sign_up_response(browser)
    assert response.status_code == 403, response.text


def test_sign_ups_are_rate_limited_per_client_address_whatever_x_forwarded_for_says(auth_server: AuthServer) -> None:
    # Better Auth's rule for /sign-up and /sign-in: 3 requests per 10 s from one client address.
    with auth_server.client("127.0.0.14") as browser:
        assert [sign_up_response(browser).status_code for _ in range(3)] == [200, 200, 200]
        assert sign_up_response(browser).status_code == 429
        browser.headers["X-Forwarded-For"] = "203.0.113.7"
        assert sign_up_response(browser).status_code == 429
    with auth_server.client("127.0.0.15") as another_browser:
        assert sign_up_response(another_browser).status_code == 200


def test_after_a_restart_users_still_sign_in_and_earlier_tokens_still_verify(
    auth_server: AuthServer, api: httpx.Client, services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id, email, before = sign_up(auth_server, "127.0.0.16")
    keys_before = httpx.get(f"{auth_server.url}/api/auth/jwks").json()["keys"]

    stopped_in = auth_server.restart()

    assert stopped_in < 5, f"SIGTERM took {stopped_in:.1f} s"
    assert httpx.get(f"{auth_server.url}/api/auth/jwks").json()["keys"] == keys_before
    after = sign_in(auth_server, "127.0.0.16", email)
    assert forge.header_of(after)["kid"] == forge.header_of(before)["kid"]
    assert verified_subject(services, auth_server, before, monkeypatch) == user_id
    for token in (before, after):
        response = api.get(f"/api/{user_id}/tasks", headers=bearer(token))
        assert response.status_code == 200, response.text


def test_behind_a_trusted_proxy_the_client_it_forwards_for_is_rate_limited_not_the_proxy(
    proxied_auth_server: AuthServer,
) -> None:
    with proxied_auth_server.client(PROXY) as proxy:
        proxy.headers["X-Forwarded-For"] = "198.51.100.1"
        assert [sign_up_response(proxy).status_code for _ in range(4)] == [200, 200, 200, 429]
        proxy.headers["X-Forwarded-For"] = "198.51.100.2"
        assert sign_up_response(proxy).status_code == 200
    with proxied_auth_server.client("127.0.0.21") as not_the_proxy:
        statuses = []
        for number in range(4):
            not_the_proxy.headers["X-Forwarded-For"] = f"198.51.100.{10 + number}"
            statuses.append(sign_up_response(not_the_proxy).status_code)
        assert statuses == [200, 200, 200, 429]


def test_idle_database_connections_killed_under_it_do_not_stop_it(
    auth_server: AuthServer, services: dict[str, Any], auth_database: ThrowawayPostgres
) -> None:
    sign_up(auth_server, "127.0.0.17")  # leaves connections idle in its pool
    url = auth_env(services, AUTH_SERVICE, auth_database)["DATABASE_URL"]
    killed = query(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
    )
    assert killed, "the server held no connection"
    time.sleep(0.5)
    assert auth_server.process.poll() is None, auth_server.log()
    sign_up(auth_server, "127.0.0.18")


# --- refusing to start ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ("BETTER_AUTH_SECRET", "better-auth: BETTER_AUTH_SECRET is not set"),
        ("DATABASE_URL", "better-auth: DATABASE_URL is not set"),
        ("BETTER_AUTH_URL", "better-auth: BETTER_AUTH_URL is not set"),
    ],
)
@pytest.mark.parametrize("service", [MIGRATE_SERVICE, AUTH_SERVICE])
def test_a_missing_setting_is_a_clear_start_up_error(
    variable: str, message: str, service: str, replica: NodeImageReplica, services: dict[str, Any]
) -> None:
    env = replica.env(compose.environment(services[service]), {variable: "", "PORT": str(free_port())})
    result = replica.run(replica.command(compose.command(services, service)), env, timeout=20)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(message), result.stderr


def test_a_trusted_proxy_that_is_not_an_address_is_a_clear_start_up_error(
    replica: NodeImageReplica, services: dict[str, Any]
) -> None:
    env = replica.env(compose.environment(services[AUTH_SERVICE]), {"BETTER_AUTH_TRUSTED_PROXIES": "10.0.0.0/8, lb"})
    result = replica.run(replica.command(compose.command(services, AUTH_SERVICE)), env, timeout=20)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("better-auth: BETTER_AUTH_TRUSTED_PROXIES: lb: expected IP addresses"), (
        result.stderr
    )
