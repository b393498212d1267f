"""Every Idempotency-Key query: a keyed create in one statement (the key claimed, both quotas checked, the task
inserted, the answer recorded) and the purge of expired keys."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple

from asyncpg import Record
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Integer,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    false,
    func,
    literal_column,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert

from impl.db.sql import Connection, Query
from impl.db.tables import idempotency_keys_table, tasks_table, users_table
from impl.tasks.repository import NEW_TASK_FIELDS, TASK_COLUMNS, VERSIONED_TASK_COLUMNS

_users = users_table.c
_max_tasks = bindparam("max_tasks", type_=Integer)
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
        ["user_id", *NEW_TASK_FIELDS],
        select(_keyed_counted.c.id, *(bindparam(name, type_=tasks_table.c[name].type) for name in NEW_TASK_FIELDS)),
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


# The first answer, stored with the key for replays: what createTask answers, built from the inserted row
# (Location's prefix comes from the endpoint, through the service; an ETag is the version quoted, as
# impl/http/entity_tags.etag spells it). Replays read this shape, old rows too: change neither alone.
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
