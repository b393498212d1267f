"""No value any parameter or body field can carry is a 5xx: each is answered, or refused as a problem.

Values as an attacker sends them: NUL, bytes that are not UTF-8 (lone surrogates spelled in UTF-8 or
as JSON escapes), numbers past every integer type, date-times at and past the edges of what Python,
asyncpg and PostgreSQL hold, text far over every length.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from tests.support.contract import OPERATIONS, Operation, lookup, operations_with, parameter_schema, query_parameters
from tests.support.listing import listing
from tests.support.problems import PROBLEM_JSON, assert_problem
from tests.support.tokens import bearer, shared_secret_token
from tests.support.users import User

# Query and path values, already percent-encoded as they go on the wire.
WIRE_VALUES = [
    "%00",
    "a%00b",
    "%ED%A0%80",  # U+D800 spelled in UTF-8: not UTF-8
    "%FF",
    "%C0%80",  # an overlong NUL
    "%F4%90%80%80",  # past U+10FFFF
    "%EF%BF%BF",
    "%EF%BC%91",  # a full-width digit one
    "99999999999999999999999999",
    "-99999999999999999999",
    "9223372036854775808",
    "2147483648",
    "-1",
    "-0",
    "1e309",
    "NaN",
    "0x10",
    "%201",
    "1_000",
    "",
    "x" * 5000,
    "%25%5C%27%22",
    "0001-01-01T00:00:00%2B05:00",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00-05:00",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59%2B05:00",
    "0000-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-01-01T00:00:60Z",
    "2026-01-01T00:00:00%2B24:00",
    "2026-01-01T00:00:00.1234567890123456789Z",
]
LIST_PARAMETERS = query_parameters("listTasks")
# Body values; text with lone surrogates goes as JSON escapes (ensure_ascii), the only way JSON carries them.
BODY_VALUES: list[Any] = [
    "\ud800",
    "a\udfffb",
    "\x00",
    "a\x00b",
    "\U0010ffff" * 201,
    "x" * 70_000,
    10**30,
    -(10**30),
    2**63,
    1e308,
    -0.0,
    True,
    None,
    [],
    {},
    ["\ud800"],
    ["\x00"],
    [10**30],
    [[[]]],
    "0001-01-01T00:00:00Z",
    "0001-01-01T05:00:00+05:00",
    "0001-01-01T00:00:00-05:00",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59.9999999Z",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+05:00",
    "2026-01-01T00:00:60Z",
]
WITH_A_BODY = [operation for operation in OPERATIONS if operation.takes_a_body]
# Every field of every request body, in the spec's order.
BODY_FIELDS = list(
    dict.fromkeys(
        field
        for operation in WITH_A_BODY
        for media in operation.definition["requestBody"]["content"].values()
        for field in lookup(media["schema"])["properties"]
    )
)
# Header values that travel over HTTP/1.1 (latin-1 bytes; h11 refuses NUL, CR and LF itself).
HEADER_VALUES = ["\x80", "\xff", "x" * 5000, '"' + "9" * 30 + '"', 'W/"1"', '"1"' * 300, "*,*", ",,,", '"-1"', '"\xe9"']


def server_errors(responses: list[tuple[str, httpx.Response]]) -> list[str]:
    """What was answered 5xx, or with an error that is not a problem document."""
    wrong = []
    for label, response in responses:
        problem = response.status_code >= 400 and response.headers.get("content-type") != PROBLEM_JSON
        if response.status_code >= 500 or problem:
            wrong.append(f"{label}: {response.status_code} {response.text[:120]}")
    return wrong


def raw_url(user: User, path: str) -> str:
    """An absolute URL as written: httpx sends percent-escapes in it as they are."""
    return str(user.http.base_url).rstrip("/") + path


@pytest.mark.parametrize("parameter", LIST_PARAMETERS)
def test_no_value_of_a_list_parameter_is_a_server_error(alice: User, parameter: str) -> None:
    alice.create("seed", due_at="2026-12-01T00:00:00Z", tags=["a"])
    responses = []
    for value in WIRE_VALUES:
        for others in ("", "&q=se&tag=a&status=pending&overdue=false&sort=due&order=asc"):
            url = raw_url(alice, f"{alice.tasks_path}?{parameter}={value}{others}")
            responses.append((f"{parameter}={value[:40]}{others}", alice.request("GET", url)))
    assert server_errors(responses) == []


@pytest.mark.parametrize("sent", operations_with("task_id"), ids=str)
def test_no_task_id_is_a_server_error(alice: User, sent: Operation) -> None:
    responses = [
        (
            f"{sent} {value[:40]}",
            alice.request(sent.method, raw_url(alice, sent.path(alice.id, value)), json=sent.example_body),
        )
        for value in WIRE_VALUES
    ]
    assert server_errors(responses) == []


@pytest.mark.parametrize("sent", operations_with("user_id"), ids=str)
def test_no_user_id_is_a_server_error_even_with_a_token_for_it(alice: User, sent: Operation) -> None:
    responses = []
    for value in WIRE_VALUES:
        # The token's subject is the path's user id as the service decodes it, so authorization passes.
        token = shared_secret_token(unquote(value, errors="replace") or "x")
        url = raw_url(alice, sent.path(value, 1))
        response = alice.http.request(sent.method, url, headers=bearer(token), json=sent.example_body)
        responses.append((f"{sent} {value[:40]}", response))
    assert server_errors(responses) == []


@pytest.mark.parametrize("field", BODY_FIELDS)
def test_no_value_of_a_body_field_is_a_server_error_nor_stored_unreadable(alice: User, field: str) -> None:
    task = alice.create("seed")
    responses = []
    for value in BODY_VALUES:
        for shape in (value, [value]) if field == "tags" else (value,):
            content = json.dumps({"title": "ok", field: shape}).encode()
            patch = json.dumps({field: shape}).encode()
            headers = {"Content-Type": "application/json"}
            label = f"{field}={shape!r:.40}"
            responses.append(
                (f"POST {label}", alice.request("POST", alice.tasks_path, content=content, headers=headers))
            )
            responses.append(
                (f"PUT {label}", alice.request("PUT", alice.task_path(task["id"]), content=content, headers=headers))
            )
            responses.append(
                (f"PATCH {label}", alice.request("PATCH", alice.task_path(task["id"]), content=patch, headers=headers))
            )
    # Whatever was stored can be answered again, in every sort.
    for sort in parameter_schema("listTasks", "sort")["enum"]:
        for order in parameter_schema("listTasks", "order")["enum"]:
            responses.append(
                (f"list {sort} {order}", alice.request("GET", alice.tasks_path, params={"sort": sort, "order": order}))
            )
    assert server_errors(responses) == []


@pytest.mark.parametrize("header", ["If-Match", "Idempotency-Key", "X-Request-ID", "Authorization", "Content-Type"])
def test_no_header_value_is_a_server_error(alice: User, header: str) -> None:
    task = alice.create("seed")
    responses = []
    for value in HEADER_VALUES:
        headers = {header: value.encode("latin-1")}
        for method, path in [
            ("POST", alice.tasks_path),
            ("PUT", alice.task_path(task["id"])),
            ("DELETE", alice.task_path(10**9)),
        ]:
            body = {"title": "x"} if method != "DELETE" else None
            responses.append(
                (f"{method} {header}={value[:40]!r}", alice.request(method, path, headers=headers, json=body))
            )
    assert server_errors(responses) == []


# The first and the last instant Python's datetime holds: asyncpg sends them as PostgreSQL's -infinity
# and infinity and reads those back without a time zone, so a task due then could never be read again.
UNSTORABLE_DUE_DATES = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T05:00:00+05:00",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T18:59:59.999999-05:00",
    "9999-12-31T23:59:59.9999999Z",  # more digits than a microsecond: read as .999999
]


@pytest.mark.parametrize("due_at", UNSTORABLE_DUE_DATES)
@pytest.mark.parametrize("sent", WITH_A_BODY, ids=str)
def test_a_due_date_postgresql_would_store_as_infinity_is_refused(alice: User, due_at: str, sent: Operation) -> None:
    task = alice.create("seed")
    response = alice.request(sent.method, sent.path(alice.id, task["id"]), json={"title": "x", "due_at": due_at})
    assert [error["pointer"] for error in assert_problem(response, 422)["errors"]] == ["/due_at"]
    assert listing(alice)["items"] == [task]


@pytest.mark.parametrize(
    "due_at", ["0001-01-01T00:00:00.000001Z", "9999-12-31T23:59:59.999998Z", "9999-12-31T23:59:59+05:00"]
)
def test_the_instants_next_to_them_are_stored_and_read_back(alice: User, due_at: str) -> None:
    task = alice.create("edge", due_at=due_at)
    other = alice.create("other", due_at="2026-12-01T00:00:00Z")
    assert alice.request("GET", alice.task_path(task["id"])).json() == task
    for order in ("asc", "desc"):
        first = listing(alice, sort="due", order=order, limit=1)
        second = listing(alice, sort="due", order=order, limit=1, cursor=first["next_cursor"])
        assert {t["id"] for t in first["items"] + second["items"]} == {task["id"], other["id"]}
