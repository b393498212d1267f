"""No cursor, of any content, is a 5xx: every cursor string answers 200 or a 422 problem (issue 11).

Hypothesis builds cursors for every sort and order: positions of arbitrary JSON values and arbitrary
bytes sealed with the service's real key (so only the position checks stand between them and SQL),
positions in the unsealed format of 1.2.0's first draft (which anyone could forge), and text of
every kind. Derandomized, so CI sees the same cases on every run.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from impl.tasks.listing.cursors import MAX_INSTANT, MIN_INSTANT
from tests.support.contract import parameter_schema, property_schema
from tests.support.cursors import legacy_cursor, seal
from tests.support.problems import assert_problem
from tests.support.users import User, new_user_id

# The contract's bounds: the cursor's checks must hold what the contract lets a task hold, and no more.
SORTS = parameter_schema("listTasks", "sort")["enum"]
ORDERS = parameter_schema("listTasks", "order")["enum"]
TITLE_LENGTH = property_schema("Task", "title")["maxLength"]
PRIORITIES = property_schema("Task", "priority")["enum"]
MAX_ID = parameter_schema("getTask", "task_id")["maximum"]
PROPERTY_SETTINGS = settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text of every code point: NUL, controls, and lone surrogates (which Hypothesis leaves out unless asked;
# JSON carries them as \ud800 escapes).
any_text = st.text(st.characters() | st.characters(categories=["Cs"]), max_size=TITLE_LENGTH + 2)
edge_integers = st.sampled_from(
    [0, 1, -1, MIN_INSTANT, MIN_INSTANT - 1, MAX_INSTANT, MAX_INSTANT + 1, MAX_ID, MAX_ID + 1, -(2**63), 10**30]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    edge_integers,
    st.floats(allow_nan=True, allow_infinity=True),
    any_text,
    st.sampled_from([*PRIORITIES, "bogus", "\x00", "\ud800", "x" * TITLE_LENGTH, "x" * (TITLE_LENGTH + 1)]),
    st.sampled_from(["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-11-26T08:00:00Z"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3),
    max_leaves=6,
)
instants = st.integers(min_value=MIN_INSTANT - 2, max_value=MAX_INSTANT + 2) | edge_integers
# Per sort: keys of the sort key's own type, at and past the edges of its range.
TYPED_KEYS = {
    "created": instants,
    "updated": instants,
    "due": st.none() | instants,
    "title": any_text,
    "priority": st.sampled_from([*PRIORITIES, "bogus", "High", ""]),
}
task_ids = st.integers(min_value=1, max_value=MAX_ID) | edge_integers


def positions(sort: str) -> st.SearchStrategy[Any]:
    """Mostly `[key, id]` of the sort key's type, so the checks in front of SQL are what is tested."""
    typed = st.tuples(TYPED_KEYS[sort], task_ids).map(list)
    anything = st.tuples(TYPED_KEYS[sort] | json_values, task_ids | json_values).map(list)
    return st.one_of(typed, typed, anything, json_values)


def plaintexts(sort: str) -> st.SearchStrategy[bytes]:
    return positions(sort).map(lambda parts: json.dumps(parts).encode()) | st.binary(max_size=80)


sorts = st.sampled_from(SORTS)


@pytest.fixture(scope="module")
def carol(http: httpx.Client) -> User:
    """A user with tasks of every sort key, so cursors reach the list's SQL with something to compare."""
    user = User(new_user_id(), http)
    for title, priority, due_at in [
        ("alpha", "low", None),
        ("beta", "high", "2026-12-31T17:00:00Z"),
        ("\U0010ffff" * 3, "medium", "0001-01-01T00:00:00.000001Z"),
    ]:
        user.create(title, priority=priority, due_at=due_at)
    return user


def assert_answered(response: httpx.Response) -> None:
    event(f"status {response.status_code}")
    assert response.status_code in {200, 422}, response.text
    if response.status_code == 422:
        assert [error.get("parameter") for error in assert_problem(response, 422)["errors"]] == ["cursor"]


@PROPERTY_SETTINGS
@given(case=sorts.flatmap(lambda sort: st.tuples(st.just(sort), plaintexts(sort))), order=st.sampled_from(ORDERS))
def test_a_cursor_sealed_with_the_key_holding_anything_is_200_or_422(
    carol: User, cursor_key: bytes, case: tuple[str, bytes], order: str
) -> None:
    sort, plaintext = case
    cursor = seal(cursor_key, plaintext, carol.id, sort=sort, order=order)
    assert_answered(carol.request("GET", carol.tasks_path, params={"sort": sort, "order": order, "cursor": cursor}))


@PROPERTY_SETTINGS
@given(case=sorts.flatmap(lambda sort: st.tuples(st.just(sort), positions(sort))), order=st.sampled_from(ORDERS))
def test_a_cursor_in_the_unsealed_format_holding_anything_is_200_or_422(
    carol: User, case: tuple[str, Any], order: str
) -> None:
    sort, parts = case
    cursor = legacy_cursor(parts if isinstance(parts, list) else [parts], sort=sort, order=order)
    assert_answered(carol.request("GET", carol.tasks_path, params={"sort": sort, "order": order, "cursor": cursor}))


@PROPERTY_SETTINGS
@given(
    sort=sorts,
    order=st.sampled_from(ORDERS),
    cursor=st.one_of(st.from_regex(r"[A-Za-z0-9_-]{1,2100}", fullmatch=True), st.binary(min_size=1, max_size=120)),
)
def test_an_unsealed_cursor_of_any_text_is_a_422(carol: User, sort: str, order: str, cursor: str | bytes) -> None:
    wire = quote_from_bytes(cursor, safe="") if isinstance(cursor, bytes) else cursor
    url = f"{str(carol.http.base_url).rstrip('/')}{carol.tasks_path}?sort={sort}&order={order}&cursor={wire}"
    response = carol.request("GET", url)
    assert response.status_code == 422, response.text
    assert_answered(response)


def test_a_position_sealed_by_these_tests_opens_in_the_service(carol: User, cursor_key: bytes) -> None:
    """The property above would pass vacuously if the tests sealed for another list than the service."""
    for sort, key in [("created", MAX_INSTANT), ("title", "zzz"), ("due", None), ("priority", "high")]:
        for order in ORDERS:
            cursor = seal(cursor_key, json.dumps([key, MAX_ID]).encode(), carol.id, sort=sort, order=order)
            response = carol.request("GET", carol.tasks_path, params={"sort": sort, "order": order, "cursor": cursor})
            assert response.status_code == 200, (sort, order, response.text)
