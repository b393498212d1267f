"""The task rules: whose tasks the caller may touch, the quotas, conditional writes, lists and their pages.

Every operation takes the caller the security scheme verified and applies the owner rule first, before
anything is read (decision 0055). HTTP is the endpoint's (impl/tasks/endpoints.py): the service takes
the request's conditions already read into version sets, and answers tasks with their versions.

An operation that writes one statement runs it alone (a statement is atomic); one that writes more
runs them in one transaction, so an error leaves nothing half-written (decision 0013).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, NoReturn

from asyncpg import Record

from contract_runtime.answers import PlainFields
from contract_runtime.security import Principal
from generated.api import ListTagsQuery, ListTasksQuery
from generated.models import Task, TaskCreate, TaskReplace, TaskUpdate
from impl.db.database import Database
from impl.db.sql import Connection
from impl.http.problems import Forbidden, NotFound, TaskQuotaReached, UnprocessableParameter
from impl.idempotency import repository as keys
from impl.idempotency.replays import IDEMPOTENCY_KEY_TTL_SECONDS, Replayed, key_quota_reached, replay
from impl.idempotency.repository import EarlierRequest
from impl.tasks import repository
from impl.tasks.bodies import changed_fields, new_task_fields, request_fingerprint
from impl.tasks.listing import cursors
from impl.tasks.listing import repository as lists
from impl.tasks.listing.query import SORT_FIELDS, SORT_KEY_TYPES, ListFilters, TaskListing
from impl.tasks.preconditions import Preconditions
from impl.tasks.repository import Unwritten
from impl.tasks.tags import TAG_KEY_TYPE, tag_key

UNCONDITIONAL = Preconditions()


def require_owner(caller: Principal, user_id: str) -> None:
    """The owner rule: a user's tasks are theirs alone; anyone else is refused before anything is read.

    The path's `user_id` was validated first, so the refusal follows only valid requests: what it
    answers depends on the caller's own request and identity, never on the other user's data.
    """
    if caller.subject != user_id:
        raise Forbidden("The token's subject may not access this user's tasks.")


class Versioned(NamedTuple):
    """A task as stored, and its version (what its entity tag names, decision 0005)."""

    task: Task
    version: int


def versioned(row: Record) -> Versioned:
    return Versioned(Task(**{name: row[name] for name in Task.model_fields}), row["version"])


@dataclass(frozen=True)
class ListedTasks:
    """One page of a user's list as read, before it is rendered (TasksService.page)."""

    listing: TaskListing
    list_id: bytes  # the list's identity, whatever the page: its cursors' and its version's
    listed: lists.ListedPage

    @property
    def version(self) -> bytes:
        """A digest that changes whenever a task on the page changes (its version moves), a task joins or
        leaves the page, or the total changes (decision 0054)."""
        listing, listed = self.listing, self.listed
        digest = hashlib.blake2b(self.list_id, digest_size=16)
        page = [listing.offset, listing.limit, listed.total, listed.more]
        digest.update(array("q", [*page, *(number for pair in listed.versions for number in pair)]).tobytes())
        return digest.digest()


def task_not_found(task_id: int) -> NotFound:
    return NotFound(f"Task {task_id} does not exist.")


def task_quota_reached(max_tasks: int) -> TaskQuotaReached:
    return TaskQuotaReached(
        f"You have {max_tasks} tasks, the most one user may have; delete some to create more.",
        extensions={"limit": max_tasks},
    )


def listing_of(user_id: str, query: ListTasksQuery) -> TaskListing:
    """The list and page a listTasks request asks for, tags in their stored spelling."""
    filters = ListFilters(
        text=query.q,
        tags=tuple(tag_key(name) for name in query.tag or ()),
        due_before=query.due_before,
        due_after=query.due_after,
        overdue=query.overdue,
    )
    return TaskListing(user_id, query.status, query.sort, query.order, query.limit, query.offset, filters)


async def conditionally(
    conn: Connection,
    user_id: str,
    task_id: int,
    conditions: Preconditions,
    write: Callable[..., Awaitable[Record | Unwritten]],
    **values: Any,
) -> Record:
    """The row a repository write wrote under the request's conditions; else 404 or 412.

    With If-None-Match `*` the write is never sent (any task that exists fails it): one read says which answer.
    """
    if conditions.excludes_every_version:
        written: Record | Unwritten = Unwritten(await repository.task_version(conn, user_id=user_id, task_id=task_id))
    else:
        written = await write(
            conn, user_id=user_id, task_id=task_id, versions=conditions.matching, excluded=conditions.excluded, **values
        )
    if isinstance(written, Unwritten):
        await raise_missing_or_failed(conn, user_id, task_id, conditions, written)
    return written


async def raise_missing_or_failed(
    conn: Connection, user_id: str, task_id: int, conditions: Preconditions, unwritten: Unwritten
) -> NoReturn:
    """After a write that matched nothing: 404 if the task was not there, else 412 for the condition it failed.

    The write's statement says at which version it found the task (decision 0053). Only when that version
    passes the conditions did another write change the task between the statement's start and its write:
    then the version is read again, and that one decides.
    """
    version = unwritten.version
    if version is not None and conditions.hold_for(version):
        version = await repository.task_version(conn, user_id=user_id, task_id=task_id)
    if version is None:
        raise task_not_found(task_id)
    raise conditions.failed(task_id, version)


class TasksService:
    def __init__(self, database: Database, *, max_tasks_per_user: int, max_idempotency_keys_per_user: int) -> None:
        self.database = database
        self.max_tasks = max_tasks_per_user
        self.max_keys = max_idempotency_keys_per_user
        # The shared cursor key never changes (migration 0005 made it): read once, on the first cursor.
        self._cursor_seal: cursors.CursorSeal | None = None

    async def cursor_seal(self) -> cursors.CursorSeal:
        if self._cursor_seal is None:
            async with self.database.connection() as conn:
                self._cursor_seal = cursors.CursorSeal(await lists.cursor_key(conn))
        return self._cursor_seal

    async def list_tasks(self, caller: Principal, *, user_id: str, query: ListTasksQuery) -> ListedTasks:
        require_owner(caller, user_id)
        listing = listing_of(user_id, query)
        list_id = listing.identity()  # the list's, whatever the page: the cursors' and the page version's
        if query.cursor is not None:
            seal = self._cursor_seal or await self.cursor_seal()
            position = seal.open(query.cursor, list_id=list_id, key_type=SORT_KEY_TYPES[listing.sort])
            if listing.offset:
                raise UnprocessableParameter(
                    "A cursor already says where the page starts; offset must be 0 with it.",
                    parameter="offset",
                    message="Must be 0 with cursor",
                )
            listing = listing.continuing_after(position)
        async with self.database.connection() as conn:
            listed = await lists.list_page(conn, listing)
        return ListedTasks(listing, list_id, listed)

    async def page(self, listed: ListedTasks) -> PlainFields:
        """The page as answered (TaskPage's fields), with a cursor to the next one sealed for its list."""
        listing, rows = listed.listing, listed.listed.rows
        next_cursor = None
        if listed.listed.more:  # so the page is full, limit >= 1 rows
            last = rows[-1]
            position = cursors.Position(last[SORT_FIELDS[listing.sort]], last["id"])
            seal = self._cursor_seal or await self.cursor_seal()
            next_cursor = seal.seal(position, list_id=listed.list_id)
        # Plain data, checked as a TaskPage where it is answered: no model instance per task (decision 0065).
        return {
            "items": rows,
            "total": listed.listed.total,
            "limit": listing.limit,
            "offset": listing.offset,
            "next_cursor": next_cursor,
        }

    async def list_tags(self, caller: Principal, *, user_id: str, query: ListTagsQuery) -> PlainFields:
        """The tag list as answered (TagList's fields)."""
        require_owner(caller, user_id)
        list_id = cursors.tags_identity(user_id)
        after = None
        if query.cursor is not None:
            seal = self._cursor_seal or await self.cursor_seal()
            after = seal.open_name(query.cursor, list_id=list_id, key_type=TAG_KEY_TYPE)
        async with self.database.connection() as conn:
            listed = await lists.list_tags(conn, user_id=user_id, limit=query.limit, after=after)
        next_cursor = None
        if listed.more:  # so the page is full, limit >= 1 rows
            seal = self._cursor_seal or await self.cursor_seal()
            next_cursor = seal.seal_name(listed.rows[-1]["name"], list_id=list_id)
        return {"items": [dict(row) for row in listed.rows], "limit": query.limit, "next_cursor": next_cursor}

    async def create_task(
        self,
        caller: Principal,
        *,
        user_id: str,
        body: TaskCreate,
        idempotency_key: str | None,
        answer_location_prefix: str,
    ) -> Versioned | Replayed:
        """The created task; or, for an Idempotency-Key already used with the same request, its first answer.

        `answer_location_prefix` is the created task's location less its id: a keyed create stores its
        answer with the key (decision 0006), in the same statement that creates the task.
        """
        require_owner(caller, user_id)
        fields = new_task_fields(body)
        if idempotency_key is None:
            async with self.database.connection() as conn:
                row = await repository.insert_task(conn, user_id=user_id, max_tasks=self.max_tasks, **fields)
            if row is None:
                raise task_quota_reached(self.max_tasks)
            return versioned(row)
        fingerprint = request_fingerprint(fields)
        keyed = {
            "user_id": user_id,
            "key": idempotency_key,
            "request_hash": fingerprint,
            "answer_location_prefix": answer_location_prefix,
            "ttl_seconds": IDEMPOTENCY_KEY_TTL_SECONDS,
            "max_keys": self.max_keys,
            "max_tasks": self.max_tasks,
            **fields,
        }
        async with self.database.connection() as conn:
            outcome = await keys.create_with_key(conn, **keyed)
        if outcome == "contended":
            # Another write of this user's ran beside it: again, under the user's row lock (decision 0046).
            async with self.database.transaction() as conn:
                outcome = await keys.create_with_key(conn, locked=True, **keyed)
        if isinstance(outcome, EarlierRequest):
            return replay(outcome, fingerprint)
        if outcome == "key quota reached":
            raise key_quota_reached(self.max_keys)
        if outcome == "task quota reached":
            raise task_quota_reached(self.max_tasks)
        assert not isinstance(outcome, str)
        return versioned(outcome)

    async def get_task(self, caller: Principal, *, user_id: str, task_id: int) -> Versioned:
        require_owner(caller, user_id)
        async with self.database.connection() as conn:
            row = await repository.get_task(conn, user_id=user_id, task_id=task_id)
        if row is None:
            raise task_not_found(task_id)
        return versioned(row)

    async def replace_task(
        self,
        caller: Principal,
        *,
        user_id: str,
        task_id: int,
        body: TaskReplace,
        conditions: Preconditions = UNCONDITIONAL,
    ) -> Versioned:
        require_owner(caller, user_id)
        return await self._update(user_id, task_id, new_task_fields(body), conditions)

    async def update_task(
        self,
        caller: Principal,
        *,
        user_id: str,
        task_id: int,
        body: TaskUpdate,
        conditions: Preconditions = UNCONDITIONAL,
    ) -> Versioned:
        require_owner(caller, user_id)
        changes = changed_fields(body)
        if changes:
            return await self._update(user_id, task_id, changes, conditions)
        async with self.database.connection() as conn:
            row = await repository.get_task(conn, user_id=user_id, task_id=task_id)
        if row is None:
            raise task_not_found(task_id)
        if not conditions.hold_for(row["version"]):
            raise conditions.failed(task_id, row["version"])
        return versioned(row)

    async def toggle_task_completion(
        self, caller: Principal, *, user_id: str, task_id: int, conditions: Preconditions = UNCONDITIONAL
    ) -> Versioned:
        require_owner(caller, user_id)
        async with self.database.connection() as conn:
            row = await conditionally(conn, user_id, task_id, conditions, repository.toggle_completion)
        return versioned(row)

    async def delete_task(
        self, caller: Principal, *, user_id: str, task_id: int, conditions: Preconditions = UNCONDITIONAL
    ) -> None:
        require_owner(caller, user_id)
        async with self.database.connection() as conn:
            await conditionally(conn, user_id, task_id, conditions, repository.delete_task)

    async def _update(
        self, user_id: str, task_id: int, changes: dict[str, Any], conditions: Preconditions
    ) -> Versioned:
        async with self.database.connection() as conn:
            row = await conditionally(conn, user_id, task_id, conditions, repository.update_task, changes=changes)
        return versioned(row)
