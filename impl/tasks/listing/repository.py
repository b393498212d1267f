"""Every list query: a page of tasks with the list's total, a page of tags, and the key that seals cursors.

Like every task query, each is filtered by owner (impl.tasks.repository).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Literal, NamedTuple

from asyncpg import Record
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Text,
    UnaryExpression,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.sql import ColumnCollection

from impl.db.sql import Connection, Query
from impl.db.tables import service_keys_table, tasks_table
from impl.tasks.listing.cursors import Position
from impl.tasks.listing.filters import filter_values, list_conditions
from impl.tasks.listing.query import NO_FILTERS, SORT_FIELDS, Direction, FilterShape, SortKey, StatusFilter, TaskListing
from impl.tasks.repository import VERSIONED_TASK_COLUMNS

SORT_COLUMNS = {sort: tasks_table.c[field] for sort, field in SORT_FIELDS.items()}
# The only nullable sort key; tasks without a due date come last in both directions.
NULLS_LAST_SORT_KEYS = {"due"}

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
    first = records[0]
    total = first["total"]
    rows = []
    if first["id"] is not None:
        # _list_query selects the task columns, then the total: zipped with the names before it, each row
        # leaves the total out. dict(record) would read the record key by key, at 1.4 times the cost.
        *task_columns, last = first.keys()
        if last != "total":
            raise RuntimeError(f"the list query's last column is {last!r}, not the total")
        rows = [dict(zip(task_columns, record, strict=False)) for record in records]
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
