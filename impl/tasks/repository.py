"""Every task query. Each one is filtered by owner, so another user's task id simply does not exist.

Statements are SQLAlchemy Core on the SQLModel tables with named bind parameters, compiled once per
shape (impl.sql); the functions here pass the values and shape the rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, Literal, NamedTuple

from asyncpg import Record
from sqlalchemy import (
    ARRAY,
    CTE,
    BigInteger,
    ColumnElement,
    DateTime,
    Integer,
    Select,
    Text,
    UnaryExpression,
    all_,
    and_,
    any_,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql import ColumnCollection

from impl.sql import Connection, Query
from impl.tables import idempotency_keys_table, service_keys_table, tasks_table, users_table
from impl.tasks.cursors import Position
from impl.tasks.list_filters import filter_values, list_conditions
from impl.tasks.listing import NO_FILTERS, SORT_FIELDS, Direction, FilterShape, SortKey, StatusFilter, TaskListing

SORT_COLUMNS = {sort: tasks_table.c[field] for sort, field in SORT_FIELDS.items()}
# The only nullable sort key; tasks without a due date come last in both directions.
NULLS_LAST_SORT_KEYS = {"due"}
TASK_COLUMNS = (
    tasks_table.c.id,
    tasks_table.c.title,
    tasks_table.c.description,
    tasks_table.c.completed,
    tasks_table.c.priority,
    tasks_table.c.due_at,
    tasks_table.c.tags,
    tasks_table.c.created_at,
    tasks_table.c.updated_at,
)
VERSIONED_TASK_COLUMNS = (*TASK_COLUMNS, tasks_table.c.version)
# Columns a replace or an update may set, in a fixed order so each set of changes compiles once.
WRITABLE_COLUMNS = ("title", "description", "completed", "priority", "due_at", "tags")


def owned(*, versioned: bool, excluding: bool = False) -> ColumnElement[bool]:
    """This user's task with this id; at one of the given versions, when versioned; at none of the excluded ones,
    when excluding (If-Match and If-None-Match, checked in the write's own WHERE: decision 0005)."""
    condition = and_(tasks_table.c.user_id == bindparam("user_id"), tasks_table.c.id == bindparam("task_id"))
    if versioned:
        condition = and_(condition, tasks_table.c.version == any_(bindparam("versions", type_=ARRAY(Integer))))
    if excluding:
        condition = and_(condition, tasks_table.c.version != all_(bindparam("excluded", type_=ARRAY(Integer))))
    return condition


_users = users_table.c
_max_tasks = bindparam("max_tasks", type_=Integer)
# The user's task count goes up by one unless it is at the quota; the task is inserted only if it did.
# A user's first create inserts the user's row with this task counted (decision 0032). The row lock
# orders a user's concurrent creates and deletes: READ COMMITTED re-checks `task_count < max_tasks` on
# the row version the wait ends on, and a create racing a first create for a new user waits in the
# unique index until that one commits, then takes the DO UPDATE on its row (or inserts, if it rolled
# back). So no number of processes ever passes the quota (decision 0027). `max_tasks > 0` keeps a zero
# quota exact for a user without a row too.
_counted = (
    insert(users_table)
    .from_select(
        ["id", "task_count"],
        select(bindparam("user_id", type_=_users.id.type), bindparam("first_count", 1, type_=Integer)).where(
            _max_tasks > 0
        ),
    )
    .on_conflict_do_update(
        index_elements=["id"], set_={"task_count": _users.task_count + 1}, where=_users.task_count < _max_tasks
    )
    .returning(_users.id)
    .cte("counted")
)
_NEW_TASK_FIELDS = ("title", "description", "priority", "due_at", "tags")
INSERT_TASK = Query.of(
    insert(tasks_table)
    .from_select(
        ["user_id", *_NEW_TASK_FIELDS],
        select(_counted.c.id, *(bindparam(name, type_=tasks_table.c[name].type) for name in _NEW_TASK_FIELDS)),
    )
    .returning(*VERSIONED_TASK_COLUMNS)
)
_tag = func.unnest(tasks_table.c.tags).table_valued("name").lateral("tag")
_tag_name = _tag.c.name.collate("C")  # code point order, whatever the server's locale (decision 0014)


def _tags_query(*, after: bool) -> Query:
    """One page of the user's tags and their counts, from the start or after the name `after_name`.

    Every tag of every task of the user is read and the names past the cursor grouped: tags live on
    the task rows, so no index yields a user's distinct tags in order (decision 0041).
    """
    where = [tasks_table.c.user_id == bindparam("user_id")]
    if after:
        where.append(_tag_name > bindparam("after_name", type_=Text))
    # Grouped by the name in "C" too: the one sort that groups the names also orders the page.
    return Query.of(
        select(_tag_name.label("name"), func.count().label("task_count"))
        .select_from(tasks_table)
        .join(_tag, true())
        .where(*where)
        .group_by(_tag_name)
        .order_by(_tag_name)
        .limit(bindparam("limit", type_=BigInteger) + 1)  # one more, to know whether a page follows
    )


LIST_TAGS = {after: _tags_query(after=after) for after in (False, True)}
GET_TASK = Query.of(select(*VERSIONED_TASK_COLUMNS).where(owned(versioned=False)))
TASK_VERSION = Query.of(select(tasks_table.c.version).where(owned(versioned=False)))


class Unwritten(NamedTuple):
    """A write that changed nothing: the task's version as the statement found it, None when it has no such task."""

    version: int | None


def _found_version_beside(written: CTE, *, conditional: bool) -> Select[Any]:
    """The written row; for a conditional write, always one row: the written one, or nulls and `found_version`,
    the task's version as the statement began (None when absent), so a 412 or 404 needs no second round trip."""
    if not conditional:
        return select(*written.c)
    found = select(tasks_table.c.version).where(owned(versioned=False)).scalar_subquery()
    one_row = select(literal_column("1").label("one")).subquery("one_row")
    return select(*written.c, case((written.c.id.is_(None), found)).label("found_version")).select_from(
        one_row.outerjoin(written, true())
    )


def _written_or_found(row: Record | None) -> Record | Unwritten:
    if row is None:  # an unconditional write that matched nothing: the task is not there
        return Unwritten(None)
    if row["id"] is None:
        return Unwritten(row["found_version"])
    return row


@cache
def _delete_query(*, versioned: bool, excluding: bool = False) -> Query:
    """Delete the task and, in the same statement, count it off its user's task count."""
    deleted = (
        tasks_table.delete()
        .where(owned(versioned=versioned, excluding=excluding))
        .returning(tasks_table.c.id)
        .cte("deleted")
    )
    uncounted = (
        update(users_table)
        .where(_users.id == bindparam("user_id"), exists(select(deleted.c.id)))
        .values(task_count=_users.task_count - 1)
        .cte("uncounted")
    )
    return Query.of(_found_version_beside(deleted, conditional=versioned or excluding).add_cte(uncounted))


# The delete statements without If-None-Match, as bench/statements.py runs them.
DELETE_TASK = {versioned: _delete_query(versioned=versioned) for versioned in (False, True)}


# Where a page continues after a cursor: from the start, after a sort key value, or (due only) among
# the tasks without a due date.
AfterShape = Literal["start", "key", "null-key"]


def after_shape(sort: SortKey, after: Position | None) -> AfterShape:
    if after is None:
        return "start"
    return "null-key" if after.key is None and sort in NULLS_LAST_SORT_KEYS else "key"


def list_queries(
    status: StatusFilter,
    sort: SortKey,
    order: Direction,
    filters: FilterShape = NO_FILTERS,
    after: AfterShape = "start",
) -> tuple[Query, Query]:
    """The page query and the count query for one shape of list request, each alone (the bench's limits
    and the query plan tests run them; the service runs list_query)."""
    return _list_queries(status, sort, order, filters, after)


def list_query(
    status: StatusFilter,
    sort: SortKey,
    order: str,
    filters: FilterShape = NO_FILTERS,
    after: AfterShape = "start",
) -> Query:
    """The one statement a list request runs: the page's rows, each with the list's total (NULL where
    needs_count says it is not needed); an empty page is one row whose task columns are NULL."""
    return _list_query(status, sort, order, filters, after)


def ordering(
    sort: SortKey, order: str, columns: ColumnCollection[str, Any] = tasks_table.c
) -> tuple[UnaryExpression[Any], UnaryExpression[Any]]:
    key, tiebreak = columns[SORT_COLUMNS[sort].name], columns.id
    if order == "desc":
        return (key.desc().nulls_last() if sort in NULLS_LAST_SORT_KEYS else key.desc()), tiebreak.desc()
    return (key.asc().nulls_last() if sort in NULLS_LAST_SORT_KEYS else key.asc()), tiebreak.asc()


def after_condition(sort: SortKey, order: str, after: AfterShape) -> list[ColumnElement[bool]]:
    """The tasks that come after the cursor's (`after_key`, `after_id`) in this sort (keyset paging)."""
    if after == "start":
        return []
    key, task_id = SORT_COLUMNS[sort], tasks_table.c.id
    after_id = bindparam("after_id", type_=BigInteger)

    def beyond(left: ColumnElement[Any], right: ColumnElement[Any]) -> ColumnElement[bool]:
        return left > right if order == "asc" else left < right

    if after == "null-key":  # only tasks without a due date are left; they are ordered by id
        return [key.is_(None), beyond(task_id, after_id)]
    later = beyond(tuple_(key, task_id), tuple_(bindparam("after_key", type_=key.type), after_id))
    return [or_(later, key.is_(None))] if sort in NULLS_LAST_SORT_KEYS else [later]


@cache
def _list_queries(
    status: StatusFilter, sort: SortKey, order: str, filters: FilterShape, after: AfterShape
) -> tuple[Query, Query]:
    page, count = _list_selects(status, sort, order, filters, after)
    return Query.of(page), Query.of(count)


def _list_selects(
    status: StatusFilter, sort: SortKey, order: str, filters: FilterShape, after: AfterShape
) -> tuple[Select[Any], Select[Any]]:
    where = list_conditions(status, filters)
    # One row more than the page, to know whether another page follows.
    # BIGINT: offset + limit + 1 may pass INTEGER's range (offset goes up to 2**31 - 1).
    page_size = bindparam("limit", type_=BigInteger) + 1
    offset = bindparam("offset", type_=BigInteger)
    if status == "all" and not (filters.text or filters.tags):
        # The indexes lead with (user_id, completed): each half is read in order through its index and
        # the halves merged, instead of sorting all of the user's tasks (decision 0019).
        halves = [
            select(*VERSIONED_TASK_COLUMNS)
            .where(*where, tasks_table.c.completed.is_(done), *after_condition(sort, order, after))
            .order_by(*ordering(sort, order))
            .limit(page_size + offset)
            for done in (False, True)
        ]
        merged = union_all(*halves).subquery("listed")
        page = select(*merged.c).order_by(*ordering(sort, order, merged.c)).limit(page_size).offset(offset)
    else:
        page = (
            select(*VERSIONED_TASK_COLUMNS)
            .where(*where, *after_condition(sort, order, after))
            .order_by(*ordering(sort, order))
            .limit(page_size)
            .offset(offset)
        )
    count = select(func.count()).select_from(tasks_table).where(*where)
    return page, count


@cache
def _list_query(status: StatusFilter, sort: SortKey, order: str, filters: FilterShape, after: AfterShape) -> Query:
    page_select, count_select = _list_selects(status, sort, order, filters, after)
    page = page_select.cte("page")
    count = count_select.scalar_subquery()
    if after == "start":
        # Decision 0019's rule in SQL: no count on the last page of an offset listing. An uncorrelated
        # scalar subquery is an InitPlan, run only when the CASE reaches it.
        returned = select(func.count()).select_from(page).scalar_subquery()
        needed = or_(
            returned > bindparam("limit", type_=BigInteger),
            and_(returned == 0, bindparam("offset", type_=BigInteger) > 0),
        )
        total: ColumnElement[Any] = case((needed, count))
    else:
        total = count
    # One row even for an empty page (its task columns NULL), so the total always comes back.
    totals = select(total.label("total")).subquery("totals")
    statement = (
        select(*page.c, totals.c.total)
        .select_from(totals.outerjoin(page, true()))
        .order_by(*ordering(sort, order, page.c))
    )
    return Query.of(statement)


@cache
def _update_query(columns: tuple[str, ...], *, toggle: bool, versioned: bool, excluding: bool = False) -> Query:
    values: dict[str, Any] = {name: bindparam(name) for name in columns}
    if toggle:
        values["completed"] = ~tasks_table.c.completed
    statement = (
        update(tasks_table)
        .where(owned(versioned=versioned, excluding=excluding))
        .values(**values, updated_at=func.now(), version=tasks_table.c.version + 1)
        .returning(*VERSIONED_TASK_COLUMNS)
    )
    if not (versioned or excluding):
        return Query.of(statement)
    return Query.of(_found_version_beside(statement.cte("updated"), conditional=True))


def update_query(columns: tuple[str, ...] = (), *, toggle: bool = False, versioned: bool = False) -> Query:
    """The statement update_task runs for these changed columns (in WRITABLE_COLUMNS order), or toggle_completion."""
    return _update_query(columns, toggle=toggle, versioned=versioned)


CURSOR_KEY = Query.of(select(service_keys_table.c.secret).where(service_keys_table.c.purpose == "cursor"))


async def cursor_key(conn: Connection) -> bytes:
    """The key that seals list cursors, shared by every instance on this database (migration 0005)."""
    row = await CURSOR_KEY.one_or_none(conn)
    if row is None:
        raise RuntimeError("service_keys holds no 'cursor' key: the database is not migrated to 0005")
    return bytes(row["secret"])


def needs_count(*, returned: int, limit: int, offset: int, by_cursor: bool) -> bool:
    """Whether a list runs the count query after its page query returned this many rows (of limit + 1).

    Not on the last page of an offset listing: there the total is the offset plus the page's rows.
    """
    return by_cursor or returned > limit or (returned == 0 and offset > 0)


class ListedPage(NamedTuple):
    rows: list[dict[str, Any]]  # the tasks' fields
    total: int  # tasks passing the filters, over all pages
    more: bool  # whether tasks follow this page
    versions: list[tuple[int, int]]  # each task's id and version, in page order (the page's entity tag)


async def list_page(conn: Connection, listing: TaskListing) -> ListedPage:
    """The page and the list's total, in one round trip."""
    filters, after = listing.filters, listing.after
    query = list_query(listing.status, listing.sort, listing.order, filters.shape, after_shape(listing.sort, after))
    values = filter_values(filters)
    if after is not None:
        values |= {"after_key": after.key, "after_id": after.id}
    limit, offset = listing.limit, listing.offset
    records = await query.all(conn, user_id=listing.user_id, limit=limit, offset=offset, **values)
    total = records[0]["total"]
    rows = [dict(record) for record in records] if records[0]["id"] is not None else []
    for row in rows:
        del row["total"]
    page, more = rows[:limit], len(rows) > limit
    versions = [(row["id"], row.pop("version")) for row in page]
    return ListedPage(page, offset + len(page) if total is None else int(total), more, versions)


class ListedTags(NamedTuple):
    rows: Sequence[Record]  # name and task_count
    more: bool  # whether tags follow this page


async def list_tags(conn: Connection, *, user_id: str, limit: int, after: str | None = None) -> ListedTags:
    """Up to limit of the user's tags, by name in code point order after `after`, with how many of the
    user's tasks carry each."""
    values = {} if after is None else {"after_name": after}
    rows = await LIST_TAGS[after is not None].all(conn, user_id=user_id, limit=limit, **values)
    return ListedTags(rows[:limit], len(rows) > limit)


async def insert_task(
    conn: Connection,
    *,
    user_id: str,
    max_tasks: int,
    title: str,
    description: str | None,
    priority: str = "medium",
    due_at: datetime | None = None,
    tags: Sequence[str] = (),
) -> Record | None:
    """Insert the task and count it; None, inserting nothing, when the user already has max_tasks tasks."""
    return await INSERT_TASK.one_or_none(
        conn,
        user_id=user_id,
        max_tasks=max_tasks,
        title=title,
        description=description,
        priority=priority,
        due_at=due_at,
        tags=list(tags),
    )


async def get_task(conn: Connection, *, user_id: str, task_id: int) -> Record | None:
    return await GET_TASK.one_or_none(conn, user_id=user_id, task_id=task_id)


async def task_version(conn: Connection, *, user_id: str, task_id: int) -> int | None:
    """The task's current version; None when the user has no such task."""
    row = await TASK_VERSION.one_or_none(conn, user_id=user_id, task_id=task_id)
    return None if row is None else int(row["version"])


async def task_exists(conn: Connection, *, user_id: str, task_id: int) -> bool:
    return await task_version(conn, user_id=user_id, task_id=task_id) is not None


async def update_task(
    conn: Connection,
    *,
    user_id: str,
    task_id: int,
    changes: dict[str, Any],
    versions: Sequence[int] | None,
    excluded: Sequence[int] | None = None,
) -> Record | Unwritten:
    """Apply changes and bump the version; Unwritten when no task matched (absent, not at `versions`, or at
    `excluded`)."""
    unknown = changes.keys() - set(WRITABLE_COLUMNS)
    if unknown:
        raise ValueError(f"not writable: {sorted(unknown)}")
    columns = tuple(name for name in WRITABLE_COLUMNS if name in changes)
    query = _update_query(columns, toggle=False, versioned=versions is not None, excluding=excluded is not None)
    return _written_or_found(
        await query.one_or_none(conn, user_id=user_id, task_id=task_id, versions=versions, excluded=excluded, **changes)
    )


async def toggle_completion(
    conn: Connection,
    *,
    user_id: str,
    task_id: int,
    versions: Sequence[int] | None,
    excluded: Sequence[int] | None = None,
) -> Record | Unwritten:
    query = _update_query((), toggle=True, versioned=versions is not None, excluding=excluded is not None)
    return _written_or_found(
        await query.one_or_none(conn, user_id=user_id, task_id=task_id, versions=versions, excluded=excluded)
    )


async def delete_task(
    conn: Connection,
    *,
    user_id: str,
    task_id: int,
    versions: Sequence[int] | None,
    excluded: Sequence[int] | None = None,
) -> Record | Unwritten:
    """Delete the task (the row holds its id); Unwritten when no task matched."""
    query = _delete_query(versioned=versions is not None, excluding=excluded is not None)
    return _written_or_found(
        await query.one_or_none(conn, user_id=user_id, task_id=task_id, versions=versions, excluded=excluded)
    )


_keys = idempotency_keys_table.c
_expired = _keys.created_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, bindparam("ttl_seconds"))
# Creates the user's row, when this keyed create is the user's first write, or locks it as FOR NO KEY
# UPDATE would: ON CONFLICT DO UPDATE locks the row it finds even where its WHERE leaves it unchanged.
LOCK_USER = Query.of(
    insert(users_table)
    .values(id=bindparam("user_id"))
    .on_conflict_do_update(index_elements=["id"], set_={"task_count": _users.task_count}, where=false())
)
_user_id = bindparam("user_id", type_=_users.id.type)
_key = bindparam("key", type_=_keys.key.type)
_max_keys = bindparam("max_keys", type_=Integer)
# Before the key is claimed: an expired key of the user is claimable at once, and the rest go too.
_expired_keys = idempotency_keys_table.delete().where(_keys.user_id == _user_id, _expired).returning(_keys.key)
_deleted = _expired_keys.cte("expired")
# What this key stands for already; an expired one stands for nothing (it is deleted above).
_earlier = select(_keys.request_hash, _keys.response).where(_keys.user_id == _user_id, _keys.key == _key, ~_expired)
_earlier_cte = _earlier.cte("earlier")
# Counting stops at max_keys, so the count costs at most max_keys index entries however many keys an
# earlier, larger quota left.
_held_keys = (
    select(func.count().label("held"))
    .select_from(select(_keys.key).where(_keys.user_id == _user_id, ~_expired).limit(_max_keys).subquery())
    .cte("held")
)
_held = select(_held_keys.c.held).scalar_subquery()
# The user's row as this statement's snapshot sees it. Its version (xmin) is compared with the row the
# upsert below locks: every keyed create that holds a key also counted its task on that row, in the
# same transaction, so an unchanged row means every key held is in the snapshot and the count is exact.
_user_row = users_table.alias("seen")
_seen = (
    select(literal_column("seen.xmin").label("version"), _user_row.c.task_count)
    .where(_user_row.c.id == _user_id)
    .cte("seen")
)
_fresh = literal_column("users.xmin") == select(_seen.c.version).scalar_subquery()
_keyed_counted = (
    insert(users_table)
    .from_select(
        ["id", "task_count"],
        select(_user_id, bindparam("first_count", 1, type_=Integer)).where(
            _max_tasks > 0,
            ~exists(select(_earlier_cte.c.request_hash)),
            _held < _max_keys,
            # Reading the DELETE's rows runs it to completion first: the key may be inserted again below.
            select(func.count()).select_from(_deleted).scalar_subquery() >= 0,
        ),
    )
    .on_conflict_do_update(
        index_elements=["id"],
        set_={"task_count": _users.task_count + 1},
        where=and_(_users.task_count < _max_tasks, _fresh),
    )
    .returning(_users.id)
    .cte("counted")
)
_keyed_inserted = (
    insert(tasks_table)
    .from_select(
        ["user_id", *_NEW_TASK_FIELDS],
        select(_keyed_counted.c.id, *(bindparam(name, type_=tasks_table.c[name].type) for name in _NEW_TASK_FIELDS)),
    )
    .returning(*VERSIONED_TASK_COLUMNS)
    .cte("inserted")
)
_UTC_INSTANT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def _json_field(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A task column as the stored answer holds it; instants in UTC, as the service renders them."""
    if isinstance(column.type, DateTime):
        return func.to_char(func.timezone(literal_column("'UTC'"), column), literal_column(f"'{_UTC_INSTANT}'"))
    return column


# The first answer, stored with the key for replays: what service.create_task answers, built from the
# inserted row (Location's prefix comes from the service; an ETag is the version quoted, preconditions.etag).
_answer = func.jsonb_build_object(
    literal_column("'task'"),
    func.jsonb_build_object(
        *(
            part
            for column in TASK_COLUMNS
            for part in (literal_column(f"'{column.name}'"), _json_field(_keyed_inserted.c[column.name]))
        )
    ),
    literal_column("'headers'"),
    func.jsonb_build_object(
        literal_column("'Location'"),
        bindparam("location_prefix", type_=Text) + cast(_keyed_inserted.c.id, Text),
        literal_column("'ETag'"),
        literal_column("'\"'") + cast(_keyed_inserted.c.version, Text) + literal_column("'\"'"),
    ),
)
_recorded = (
    insert(idempotency_keys_table)
    .from_select(
        ["user_id", "key", "request_hash", "response"],
        select(_user_id, _key, bindparam("request_hash", type_=_keys.request_hash.type), _answer).select_from(
            _keyed_inserted
        ),
    )
    .cte("recorded")
)
_checked = select(
    _held.label("held_keys"), select(_seen.c.task_count).scalar_subquery().label("seen_task_count")
).subquery("checked")
# One statement: the key claimed, both quotas checked, the task inserted and counted, the answer
# recorded; or the earlier request's answer, or a quota's refusal, with nothing written but expired
# keys deleted. Always one row. No key row conflicts: a concurrent create with the same key holds or
# has changed the user's row, which sends this one back as contended.
CREATE_WITH_KEY = Query.of(
    select(
        *_keyed_inserted.c,
        _earlier_cte.c.request_hash,
        _earlier_cte.c.response,
        _checked.c.held_keys,
        _checked.c.seen_task_count,
    )
    .select_from(_checked.outerjoin(_keyed_inserted, true()).outerjoin(_earlier_cte, true()))
    .add_cte(_recorded)
)


class EarlierRequest(NamedTuple):
    """What an Idempotency-Key already stands for: its request's fingerprint and the answer given."""

    request_hash: str
    response: dict[str, Any] | None  # None only for a key of a create still in flight under an older release


KeyedCreate = Record | EarlierRequest | Literal["key quota reached", "task quota reached", "contended"]


async def create_with_key(
    conn: Connection,
    *,
    user_id: str,
    key: str,
    request_hash: str,
    answer_location_prefix: str,
    ttl_seconds: float,
    max_keys: int,
    max_tasks: int,
    locked: bool = False,
    title: str,
    description: str | None,
    priority: str = "medium",
    due_at: datetime | None = None,
    tags: Sequence[str] = (),
) -> KeyedCreate:
    """Create the task under this Idempotency-Key in one statement: the task's row (with its version) once
    created; what the key already stands for; which quota refuses it; or "contended" when the user's row
    changed between the statement's snapshot and its lock (another create or delete of the user's ran
    meanwhile), having written nothing.

    A contended create is sent again with `locked`, inside a transaction: the user's row is created or
    locked first (LOCK_USER), so the statement's snapshot is taken under the lock and sees every key the
    user holds (decisions 0027, 0032, 0046).
    """
    if locked:
        await LOCK_USER.all(conn, user_id=user_id)
    row = await CREATE_WITH_KEY.one_or_none(
        conn,
        user_id=user_id,
        key=key,
        request_hash=request_hash,
        location_prefix=answer_location_prefix,
        ttl_seconds=ttl_seconds,
        max_keys=max_keys,
        max_tasks=max_tasks,
        title=title,
        description=description,
        priority=priority,
        due_at=due_at,
        tags=list(tags),
    )
    assert row is not None  # the statement always answers one row
    if row["id"] is not None:
        return row
    if row["request_hash"] is not None:
        response = row["response"]
        return EarlierRequest(row["request_hash"], json.loads(response) if response is not None else None)
    if row["held_keys"] >= max_keys:
        return "key quota reached"
    if max_tasks <= 0 or (row["seen_task_count"] is not None and row["seen_task_count"] >= max_tasks):
        return "task quota reached"
    if locked:
        raise RuntimeError("a keyed create under the user's row lock found the row changed")
    return "contended"


# Expired keys of every user, oldest first through ix_idempotency_keys_created_at, a batch at a time;
# rows a create is deleting right now are left to it.
_expired_batch = (
    select(_keys.user_id, _keys.key)
    .where(_expired)
    .order_by(_keys.created_at)
    .limit(bindparam("batch_size"))
    .with_for_update(skip_locked=True)
    .cte("expired")
)
_purged = (
    idempotency_keys_table.delete()
    .where(tuple_(_keys.user_id, _keys.key).in_(select(_expired_batch.c.user_id, _expired_batch.c.key)))
    .returning(_keys.key)
    .cte("purged")
)
PURGE_EXPIRED_KEYS = Query.of(select(func.count()).select_from(_purged).add_cte(_expired_batch))
# One purge at a time over all processes and machines, without waiting: the others skip their turn.
# Transaction-scoped, so it works through a transaction-mode pooler (PgBouncer, Neon's -pooler host).
TRY_PURGE_LOCK = Query.of(select(func.pg_try_advisory_xact_lock(bindparam("lock_id", type_=BigInteger))))


async def try_purge_lock(conn: Connection, *, lock_id: int) -> bool:
    """Take the purge's advisory lock until the transaction ends; False when another purge holds it."""
    row = await TRY_PURGE_LOCK.one_or_none(conn, lock_id=lock_id)
    return row is not None and bool(row[0])


async def purge_expired_keys(conn: Connection, *, ttl_seconds: float, batch_size: int) -> int:
    """Delete up to batch_size expired keys of any users; how many were deleted."""
    row = await PURGE_EXPIRED_KEYS.one_or_none(conn, ttl_seconds=ttl_seconds, batch_size=batch_size)
    return int(row[0]) if row else 0
