"""Each operation reaches PostgreSQL once: one round trip per request (decision 0046).

The service runs as a real process whose only way to PostgreSQL is devtools.delay_proxy, which counts
round trips (a client's send after the server's answer). One worker and a pool of one connection:
each request's statements are prepared on that connection by the request before the counted one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy.engine import make_url

from devtools.delay_proxy import DelayProxy
from devtools.live_server import LiveServer
from tests.support.contract import Operation, operation, operations_with
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.users import User, new_user_id

TASKS = 30
PAGE = 10


def proxy_for(database_url: str) -> DelayProxy:
    url = make_url(database_url)
    host = str(url.query.get("host") or url.host or "127.0.0.1")
    if host.startswith("/"):
        return DelayProxy(unix_socket=f"{host}/.s.PGSQL.{url.port or 5432}")
    return DelayProxy(host=host, port=url.port or 5432)


@pytest.fixture(scope="module")
def proxy(database_url: str) -> Iterator[DelayProxy]:
    proxy = proxy_for(database_url).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def counted_server(proxy: DelayProxy, database_url: str) -> Iterator[LiveServer]:
    url = make_url(database_url)
    through_proxy = f"postgresql://{url.username or 'postgres'}@127.0.0.1:{proxy.port}/{url.database}"
    env = shared_secret_env(through_proxy) | {"DB_POOL_MAX_SIZE": "1"}
    live = LiveServer(env, log_path=REPORTS / "server-round-trips.log")
    yield live
    live.stop()


@pytest.fixture(scope="module")
def user(counted_server: LiveServer, proxy: DelayProxy) -> Iterator[User]:
    """A user with TASKS tasks, once the service's start-up work on the database is over."""
    with httpx.Client(base_url=counted_server.url, timeout=10) as client:
        user = User(new_user_id(), client)
        for index in range(TASKS):
            user.create(f"task {index}", tags=["counted"])
        wait_until_quiet(proxy)
        yield user


def wait_until_quiet(proxy: DelayProxy, quiet_for: float = 0.5) -> None:
    """Return once no round trip has begun for quiet_for seconds (the connection budget check runs once,
    in the background, after the service's first answer)."""
    seen, since = proxy.round_trips, time.monotonic()
    while time.monotonic() - since < quiet_for:
        time.sleep(0.05)
        if proxy.round_trips != seen:
            seen, since = proxy.round_trips, time.monotonic()


def round_trips(proxy: DelayProxy, send: Callable[[], httpx.Response], expected_status: int) -> int:
    """The round trips of one request, sent after one like it has prepared its statements."""
    assert send().status_code == expected_status
    before = proxy.round_trips
    response = send()
    assert response.status_code == expected_status, response.text
    return proxy.round_trips - before


def some_task(user: User) -> int:
    task_id: int = user.create("to change")["id"]
    return task_id


def test_a_list_page_with_its_total_takes_one_round_trip(user: User, proxy: DelayProxy) -> None:
    send = lambda: user.request("GET", user.tasks_path, params={"limit": PAGE})  # noqa: E731
    assert send().json()["total"] >= TASKS
    assert round_trips(proxy, send, 200) == 1


def test_a_page_after_a_cursor_takes_one_round_trip(user: User, proxy: DelayProxy) -> None:
    cursor = user.request("GET", user.tasks_path, params={"limit": PAGE}).json()["next_cursor"]
    send = lambda: user.request("GET", user.tasks_path, params={"limit": PAGE, "cursor": cursor})  # noqa: E731
    assert round_trips(proxy, send, 200) == 1


def test_a_filtered_list_takes_one_round_trip(user: User, proxy: DelayProxy) -> None:
    params = {"limit": PAGE, "q": "task", "tag": "counted", "status": "pending"}
    assert round_trips(proxy, lambda: user.request("GET", user.tasks_path, params=params), 200) == 1


def test_a_get_takes_one_round_trip(user: User, proxy: DelayProxy) -> None:
    task_id = some_task(user)
    assert round_trips(proxy, lambda: user.request("GET", user.task_path(task_id)), 200) == 1


# The conditional writes (those that take If-Match), and those of them that answer the changed task.
WRITES = operations_with("If-Match")
CHANGES = [write for write in WRITES if write.answers_with_content]


def send_write(user: User, write: Operation, task_id: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return user.request(write.method, write.path(user.id, task_id), json=write.example_body, headers=headers or {})


@pytest.mark.parametrize("change", CHANGES, ids=str)
def test_a_change_takes_one_round_trip(user: User, proxy: DelayProxy, change: Operation) -> None:
    task_id = some_task(user)
    assert round_trips(proxy, lambda: send_write(user, change, task_id), change.success) == 1


def test_a_delete_takes_one_round_trip(user: User, proxy: DelayProxy) -> None:
    delete = operation("deleteTask")
    doomed = iter([some_task(user), some_task(user)])
    assert round_trips(proxy, lambda: send_write(user, delete, next(doomed)), delete.success) == 1


def test_a_create_takes_one_round_trip(user: User, proxy: DelayProxy) -> None:
    assert round_trips(proxy, lambda: user.request("POST", user.tasks_path, json={"title": "new"}), 201) == 1


def test_a_create_with_a_new_idempotency_key_takes_one_round_trip(user: User, proxy: DelayProxy) -> None:
    def send() -> httpx.Response:
        return user.request(
            "POST", user.tasks_path, json={"title": "keyed"}, headers={"Idempotency-Key": str(uuid.uuid4())}
        )

    assert round_trips(proxy, send, 201) == 1


def test_a_replayed_create_takes_one_round_trip(user: User, proxy: DelayProxy) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert user.request("POST", user.tasks_path, json={"title": "once"}, headers=key).status_code == 201
    assert (
        round_trips(proxy, lambda: user.request("POST", user.tasks_path, json={"title": "once"}, headers=key), 201) == 1
    )


def test_the_tag_list_takes_one_round_trip(user: User, proxy: DelayProxy) -> None:
    assert round_trips(proxy, lambda: user.request("GET", operation("listTags").path(user.id)), 200) == 1


STALE = {"If-Match": '"999"'}


@pytest.mark.parametrize("write", WRITES, ids=str)
def test_a_write_refused_by_a_stale_if_match_takes_one_round_trip(
    user: User, proxy: DelayProxy, write: Operation
) -> None:
    task_id = some_task(user)
    assert round_trips(proxy, lambda: send_write(user, write, task_id, STALE), 412) == 1


CONDITIONS = {"unconditional": {}, "if-match": STALE, "if-none-match": {"If-None-Match": '"1"'}}


@pytest.mark.parametrize("condition", CONDITIONS.values(), ids=CONDITIONS.keys())
@pytest.mark.parametrize("write", WRITES, ids=str)
def test_a_write_to_a_missing_task_takes_one_round_trip(
    user: User, proxy: DelayProxy, write: Operation, condition: dict[str, str]
) -> None:
    assert round_trips(proxy, lambda: send_write(user, write, 2**62, condition), 404) == 1
