"""/metrics as `tasks-api serve` serves it: on METRICS_PORT only, summed over its workers, labels from closed sets."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from devtools import embedded_db, migrate
from devtools.live_server import free_port
from tests.support import tasks_api_command
from tests.support.database import fresh_database, query
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.tokens import bearer, shared_secret_token
from tests.support.users import new_user_id
from tests.support.waiting import wait_until

WORKERS = 2
REQUESTS = 60
LIST_OK = {"operation": "listTasks", "method": "GET", "status": "200"}
# Each worker writes what it counted once a second (decision 0063): a scrape sees a request within two.
WRITTEN_SECONDS = 5


class MetricsServing:
    """`tasks-api serve` with METRICS_PORT set, and its metrics read as Prometheus reads them."""

    def __init__(self, env: dict[str, str], *, multiprocess_dir: Path, log_name: str) -> None:
        self.metrics_url = f"http://127.0.0.1:{free_port()}/metrics"
        self.multiprocess_dir = multiprocess_dir
        env = env | {"METRICS_PORT": self.metrics_url.split(":")[2].split("/")[0]}
        env |= {"PROMETHEUS_MULTIPROC_DIR": str(multiprocess_dir)}
        self.serving = tasks_api_command.Serving(env, log_path=REPORTS / log_name)
        self.url = self.serving.url

    def value(self, name: str, labels: dict[str, str] | None = None, *, text: str | None = None) -> float:
        """The sample's value in a scrape (by default a new one); 0 when it has none yet: a labelled series
        appears at its first use."""
        text = text if text is not None else self.text()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and sample.labels == (labels or {}):
                    return float(sample.value)
        return 0.0

    def reaches(self, name: str, labels: dict[str, str], expected: float) -> bool:
        """Whether the sample reaches `expected` once the workers have written what they counted."""
        return wait_until(lambda: self.value(name, labels) >= expected, seconds=WRITTEN_SECONDS)

    def text(self) -> str:
        return httpx.get(self.metrics_url).text

    def stop(self) -> None:
        self.serving.stop()


@pytest.fixture(scope="module")
def serving(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetricsServing]:
    env = shared_secret_env(database_url) | {"WEB_CONCURRENCY": str(WORKERS)}
    live = MetricsServing(env, multiprocess_dir=tmp_path_factory.mktemp("metrics"), log_name="metrics-serve.log")
    yield live
    live.stop()


def list_concurrently(url: str, user: str, count: int) -> list[int]:
    """`count` list requests, each on a connection of its own, eight at a time: the workers share them."""

    def one(_: int) -> int:
        headers = bearer(shared_secret_token(user))
        return httpx.get(f"{url}/api/{user}/tasks", headers=headers).status_code

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def counting_processes(directory: Path) -> set[str]:
    """The processes that wrote counters into the multiprocess directory (counter_<pid>.db)."""
    return {path.stem.removeprefix("counter_") for path in directory.glob("counter_*.db")}


def test_requests_are_counted_once_each_across_the_workers(serving: MetricsServing) -> None:
    before = serving.value("tasks_api_requests_total", LIST_OK)
    assert list_concurrently(serving.url, new_user_id(), REQUESTS) == [200] * REQUESTS
    assert serving.reaches("tasks_api_requests_total", LIST_OK, before + REQUESTS)
    assert serving.value("tasks_api_requests_total", LIST_OK) == before + REQUESTS
    assert len(counting_processes(serving.multiprocess_dir)) == WORKERS


def test_labels_are_operation_ids_or_route_templates_never_paths_or_user_ids(serving: MetricsServing) -> None:
    user = new_user_id()
    assert httpx.get(f"{serving.url}/api/{user}/tasks").status_code == 401
    assert httpx.get(f"{serving.url}/openapi.yaml").status_code == 200
    assert httpx.get(f"{serving.url}/no/such/{user}").status_code == 404
    assert httpx.request("BREW", f"{serving.url}/api/{user}/tasks").status_code in (400, 405)
    for operation, status in (("listTasks", "401"), ("/openapi.yaml", "200"), ("unmatched", "404")):
        answered = {"operation": operation, "method": "GET", "status": status}
        assert serving.reaches("tasks_api_requests_total", answered, 1), answered
    text = serving.text()
    assert user not in text
    assert "BREW" not in text


def test_metrics_are_not_served_on_the_api_port(serving: MetricsServing) -> None:
    user = new_user_id()
    assert httpx.get(f"{serving.url}/metrics").status_code == 404
    assert httpx.get(f"{serving.url}/metrics", headers=bearer(shared_secret_token(user))).status_code == 404
    assert "tasks_api_requests_total" in serving.text()


def test_latency_is_a_histogram_per_operation_with_buckets(serving: MetricsServing) -> None:
    listing = {"operation": "listTasks"}
    before = serving.value("tasks_api_request_duration_seconds_count", listing)
    list_concurrently(serving.url, new_user_id(), 4)
    assert serving.reaches("tasks_api_request_duration_seconds_count", listing, before + 4)
    scrape = serving.text()  # one scrape: a worker may write between two
    count = serving.value("tasks_api_request_duration_seconds_count", listing, text=scrape)
    bucket = "tasks_api_request_duration_seconds_bucket"
    assert serving.value(bucket, listing | {"le": "+Inf"}, text=scrape) == count
    assert 0 < serving.value(bucket, listing | {"le": "10.0"}, text=scrape) <= count
    assert "tasks_api_request_duration_seconds_bucket" in scrape
    # Sampled once a second in each worker: a sample taken while the requests ran is replaced within one.
    assert wait_until(lambda: serving.value("tasks_api_requests_in_flight") == 0, seconds=5), serving.text()


def test_pool_gauges_show_the_connections_the_requests_opened(serving: MetricsServing) -> None:
    list_concurrently(serving.url, new_user_id(), 16)

    def settled_after_the_requests() -> bool:
        return (
            serving.value("tasks_api_db_pool_connections", {"state": "idle"}) >= 1
            and serving.value("tasks_api_db_pool_connections", {"state": "in_use"}) == 0
            and serving.value("tasks_api_db_pool_waiting") == 0
        )

    # Each worker samples its pool every second: one sample may still show the requests' connections in use.
    assert wait_until(settled_after_the_requests, seconds=5), serving.text()


def test_token_checks_are_counted_by_outcome(serving: MetricsServing) -> None:
    user = new_user_id()
    refused = {"outcome": "refused", "reason": "expired"}
    before = serving.value("tasks_api_token_verifications_total", refused)
    expired = shared_secret_token(user, exp=int(time.time()) - 60)
    assert httpx.get(f"{serving.url}/api/{user}/tasks", headers=bearer(expired)).status_code == 401
    assert serving.value("tasks_api_token_verifications_total", refused) == before + 1  # refusals: written at once
    fine = shared_secret_token(user)
    assert httpx.get(f"{serving.url}/api/{user}/tasks", headers=bearer(fine)).status_code == 200
    assert serving.reaches("tasks_api_token_verifications_total", {"outcome": "accepted", "reason": ""}, 1)


def test_what_a_worker_counted_in_its_last_second_is_written_when_it_stops(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    directory = tmp_path_factory.mktemp("metrics-stopped")
    live = MetricsServing(shared_secret_env(database_url), multiprocess_dir=directory, log_name="metrics-stopped.log")
    try:
        assert list_concurrently(live.url, new_user_id(), 8) == [200] * 8
    finally:
        live.stop()  # at once: the requests' second has not ended
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    assert registry.get_sample_value("tasks_api_requests_total", LIST_OK) == 8


@pytest.fixture(scope="module")
def read_only_database(postgres: embedded_db.PostgresServer) -> Iterator[str]:
    url = fresh_database(postgres, "metrics_read_only")
    migrate.upgrade(url)
    name = f"metrics_read_only_{os.getpid()}"
    query(url, f"ALTER DATABASE {name} SET default_transaction_read_only = on")
    yield url
    embedded_db.drop_database(postgres, name)


def test_a_database_error_is_counted_by_its_sqlstate_class(
    read_only_database: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    live = MetricsServing(
        shared_secret_env(read_only_database),
        multiprocess_dir=tmp_path_factory.mktemp("metrics-read-only"),
        log_name="metrics-read-only.log",
    )
    try:
        user = new_user_id()
        created = httpx.post(
            f"{live.url}/api/{user}/tasks", json={"title": "never stored"}, headers=bearer(shared_secret_token(user))
        )
        assert created.status_code == 500  # 25006: read_only_sql_transaction, an error of ours, not an outage
        assert live.value("tasks_api_database_errors_total", {"sqlstate_class": "25"}) == 1
    finally:
        live.stop()


def test_a_metrics_port_that_cannot_be_bound_stops_serve_at_start(database_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = shared_secret_env(database_url) | {"METRICS_PORT": str(port)}
        result = tasks_api_command.run("serve", "--host", "127.0.0.1", "--port", str(free_port()), env=env)
    assert result.returncode == 3
    expected = f"METRICS_PORT {port} cannot be served on METRICS_HOST 127.0.0.1: Address already in use"
    assert result.stderr.strip() == f"tasks-api serve: {expected}"


# A socket bound to 0.0.0.0 answers on every address of this machine, 127.0.0.2 among them; one bound
# to 127.0.0.1 does not.
ANOTHER_ADDRESS = "127.0.0.2"
ALL_ADDRESSES = "0.0.0.0"  # noqa: S104


def answers(host: str, port: int) -> bool:
    try:
        return httpx.get(f"http://{host}:{port}/metrics", timeout=5).status_code == 200
    except httpx.ConnectError:
        return False


@pytest.mark.parametrize(
    ("metrics_host", "reachable_from"),
    [(None, ["127.0.0.1"]), (ALL_ADDRESSES, ["127.0.0.1", ANOTHER_ADDRESS])],
    ids=["unset-loopback-only", "all-addresses"],
)
def test_the_metrics_port_binds_loopback_unless_metrics_host_says_otherwise(
    database_url: str, metrics_host: str | None, reachable_from: list[str]
) -> None:
    """Whatever address the API binds: the image's command binds it to 0.0.0.0."""
    port = free_port()
    env = shared_secret_env(database_url) | {"METRICS_PORT": str(port)}
    if metrics_host is not None:
        env["METRICS_HOST"] = metrics_host
    command = (tasks_api_command.TASKS_API, "serve", "--host", ALL_ADDRESSES)
    live = tasks_api_command.Serving(env, log_path=REPORTS / "metrics-host.log", command=command)
    try:
        api_port = live.url.rsplit(":", 1)[1]
        assert httpx.get(f"http://{ANOTHER_ADDRESS}:{api_port}/healthz").status_code == 200
        assert [host for host in ("127.0.0.1", ANOTHER_ADDRESS) if answers(host, port)] == reachable_from
    finally:
        live.stop()


def test_the_metrics_port_names_no_server_software_or_version(serving: MetricsServing) -> None:
    host, port = serving.metrics_url.split("/")[2].split(":")
    responses = [httpx.get(serving.metrics_url), httpx.post(serving.metrics_url)]
    assert responses[0].status_code == 200
    assert all("server" not in response.headers for response in responses), [r.headers for r in responses]
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        # Refused by http.server itself (431: over 100 headers), before the handler's code runs.
        raw.sendall(b"GET /metrics HTTP/1.1\r\n" + b"X-Pad: a\r\n" * 101 + b"\r\n")
        refusal = b""
        while chunk := raw.recv(65536):
            refusal += chunk
    head = refusal.split(b"\r\n\r\n", 1)[0].lower()
    assert refusal.startswith(b"HTTP/"), refusal
    assert b"\r\nserver:" not in head, refusal
    assert not any(word in refusal.lower() for word in (b"python", b"wsgiserver", b"basehttp")), refusal


@pytest.mark.parametrize("metrics_host", ["0.0.0.0:9100", "http://127.0.0.1", "local host", "-x"])
def test_a_metrics_host_that_is_no_address_stops_serve_at_start(database_url: str, metrics_host: str) -> None:
    env = shared_secret_env(database_url) | {"METRICS_PORT": str(free_port()), "METRICS_HOST": metrics_host}
    result = tasks_api_command.run("serve", "--host", "127.0.0.1", "--port", str(free_port()), env=env, timeout=20)
    assert result.returncode == 3
    assert result.stderr.startswith("tasks-api serve: invalid settings: METRICS_HOST: "), result.stderr
