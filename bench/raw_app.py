"""The bench's `framework-only` target: the service's own SQL, pool and token cache as a bare ASGI app.

Not the Python stack limit (that is bench/bare_app.py, which shares nothing with the service, decision
0045): the service against this one measures the framework alone. Run by the bench under the same server
stack as the service (uvicorn, uvloop, httptools, same workers). Per request it does what the service
cannot avoid: parse the path and query, check the bearer token's text as the service does
(impl.auth.compact_jws), verify it (HS256) with python-jose or find it among the tokens it verified
already, as the service does, and check `sub` against the path's user id, run the service's own SQL (the
compiled statements of impl.tasks.repository, bench.statements) through the service's own asyncpg pool
(impl.db.database.create_pool: same size, timeouts and release behaviour), and write JSON. It skips
everything else: validation beyond what the SQL needs, problem documents, request ids, logging, ETag
preconditions and idempotency keys.

Environment: the service's (DATABASE_URL, JWT_SECRET, DB_* pool settings).
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import asyncpg  # type: ignore[import-untyped]
from jose import jwt
from jose.exceptions import JOSEError

from bench.statements import CREATE_DEFAULTS, ORDERS, SORTS, STATUSES, ServiceSql, service_sql
from impl.auth import compact_jws
from impl.auth.verified_tokens import VerifiedTokens
from impl.db.database import create_pool
from impl.db.sql import Query
from impl.kit.heap import freeze_startup_heap
from impl.settings import get_settings
from impl.tasks.listing.filters import filter_values
from impl.tasks.listing.query import ListFilters
from impl.tasks.listing.repository import list_queries, needs_count

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_LIMIT = 100
DEFAULT_LIMIT = 20


class HttpError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def task_json(row: asyncpg.Record) -> dict[str, Any]:
    created: datetime = row["created_at"]
    updated: datetime = row["updated_at"]
    due: datetime | None = row["due_at"]
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "completed": row["completed"],
        "priority": row["priority"],
        "due_at": None if due is None else due.isoformat(),
        "tags": row["tags"],
        "created_at": created.isoformat(),
        "updated_at": updated.isoformat(),
    }


def choice(query: dict[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = query.get(name, default)
    if value not in allowed:
        raise HttpError(422, f"{name} must be one of {allowed}")
    return value


def instant(query: dict[str, str], name: str) -> datetime | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise HttpError(422, f"{name} must be an RFC 3339 date-time") from None
    if value.tzinfo is None:
        raise HttpError(422, f"{name} must have an offset")
    return value


def integer(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise HttpError(422, f"{name} must be an integer in {low}..{high}")
    return int(raw)


class RawApp:
    def __init__(self) -> None:
        self.sql: ServiceSql = service_sql()
        self.secret = os.environ["JWT_SECRET"]
        self.pool: asyncpg.Pool | None = None
        self.verified = VerifiedTokens()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        elif scope["type"] == "http":
            try:
                status, body, headers = await self.handle(scope, receive)
            except HttpError as error:
                status, body, headers = error.status, {"detail": error.detail}, []
            await self.respond(send, status, body, headers)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # The service's own pool: same size, timeouts and release behaviour.
                self.pool = await create_pool(get_settings())
                freeze_startup_heap()  # as the service does
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def respond(send: Send, status: int, body: object, headers: list[tuple[bytes, bytes]]) -> None:
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        response_headers = [(b"content-length", str(len(payload)).encode()), *headers]
        if payload:
            response_headers.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})

    def authenticate(self, scope: Scope, user_id: str) -> None:
        authorization = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise HttpError(401, "missing bearer token")
        # The service's own checks of the token's text and memory of verified tokens, used the same way.
        if not compact_jws.well_formed(token):
            raise HttpError(401, "invalid token")
        subject = self.verified.subject(token)
        if subject is None:
            if not compact_jws.canonical(token):
                raise HttpError(401, "invalid token")
            try:
                claims = jwt.decode(
                    token, self.secret, algorithms=["HS256"], options={"require_exp": True, "require_sub": True}
                )
            except JOSEError:
                raise HttpError(401, "invalid token") from None
            subject = str(claims["sub"])
            self.verified.remember(token, subject, expires_at=int(claims["exp"]))
        if subject != user_id:
            raise HttpError(403, "the token's subject may not access this user's tasks")

    async def handle(self, scope: Scope, receive: Receive) -> tuple[int, object, list[tuple[bytes, bytes]]]:
        parts = scope["path"].strip("/").split("/")
        method = scope["method"]
        if parts == ["healthz"]:
            return 200, {"status": "ok"}, []
        if len(parts) < 3 or parts[0] != "api" or parts[2] != "tasks" or len(parts) > 5:
            raise HttpError(404, "no such route")
        user_id = parts[1]
        self.authenticate(scope, user_id)
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            if len(parts) == 3:
                if method == "GET":
                    return await self.list_tasks(conn, user_id, scope)
                if method == "POST":
                    return await self.create_task(conn, user_id, await read_json(receive))
                raise HttpError(405, "method not allowed")
            if not parts[3].isdigit():
                raise HttpError(422, "task_id must be an integer")
            task_id = int(parts[3])
            if len(parts) == 5:
                if parts[4] != "complete" or method != "PATCH":
                    raise HttpError(404, "no such route")
                return self.task_response(await self.fetch(conn, self.sql.toggle, user_id=user_id, task_id=task_id))
            if method == "GET":
                return self.task_response(await self.fetch(conn, self.sql.get, user_id=user_id, task_id=task_id))
            if method == "PATCH":
                body = await read_json(receive)
                title = body.get("title")
                if not isinstance(title, str) or not title.strip() or len(title) > 200:
                    raise HttpError(422, "the bench's raw app updates titles only")
                row = await self.fetch(conn, self.sql.update_title, user_id=user_id, task_id=task_id, title=title)
                return self.task_response(row)
            if method == "DELETE":
                if await self.fetch(conn, self.sql.delete, user_id=user_id, task_id=task_id) is None:
                    raise HttpError(404, "no such task")
                return 204, None, []
            raise HttpError(405, "method not allowed")

    async def list_tasks(
        self, conn: asyncpg.Connection, user_id: str, scope: Scope
    ) -> tuple[int, object, list[tuple[bytes, bytes]]]:
        pairs = parse_qsl(scope["query_string"].decode("utf-8"))
        query = dict(pairs)
        status = choice(query, "status", STATUSES, "all")
        sort = choice(query, "sort", SORTS, "created")
        order = choice(query, "order", ORDERS, "desc")
        limit = integer(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = integer(query, "offset", 0, 0, 2**31 - 1)
        values: dict[str, object] = {"user_id": user_id, "limit": limit, "offset": offset}
        # The filters as the service reads them (tags lower-cased) and binds them (list_filters.filter_values).
        overdue = choice(query, "overdue", ("true", "false", ""), "")
        filters = ListFilters(
            text=query.get("q"),
            tags=tuple(value.lower() for name, value in pairs if name == "tag"),
            due_before=instant(query, "due_before"),
            due_after=instant(query, "due_after"),
            overdue=None if not overdue else overdue == "true",
        )
        values |= filter_values(filters)
        shape = filters.shape
        # Compiled on first use of each shape, as the service compiles them.
        page_query, count_query = list_queries(status, sort, order, shape)  # type: ignore[arg-type]
        rows = await conn.fetch(page_query.sql, *page_query.arguments(values))
        # Counted exactly when the service counts (its page query asks for a row beyond the page).
        if needs_count(returned=len(rows), limit=limit, offset=offset, by_cursor=False):
            total = await conn.fetchval(count_query.sql, *count_query.arguments(values))
        else:
            total = offset + len(rows)
        page = rows[:limit]
        body = {"items": [task_json(row) for row in page], "total": total, "limit": limit, "offset": offset}
        return 200, body, []

    async def create_task(
        self, conn: asyncpg.Connection, user_id: str, body: dict[str, Any]
    ) -> tuple[int, object, list[tuple[bytes, bytes]]]:
        title = body.get("title")
        description = body.get("description")
        if not isinstance(title, str) or not title.strip() or len(title) > 200:
            raise HttpError(422, "title must be 1 to 200 characters")
        if description is not None and not isinstance(description, str):
            raise HttpError(422, "description must be a string or null")
        row = await self.fetch(
            conn, self.sql.insert, user_id=user_id, title=title, description=description, **CREATE_DEFAULTS
        )
        assert row is not None
        location = f"/api/{user_id}/tasks/{row['id']}".encode()
        return 201, task_json(row), [(b"location", location), (b"etag", f'"{row["version"]}"'.encode())]

    @staticmethod
    def task_response(row: asyncpg.Record | None) -> tuple[int, object, list[tuple[bytes, bytes]]]:
        if row is None:
            raise HttpError(404, "no such task")
        return 200, task_json(row), [(b"etag", f'"{row["version"]}"'.encode())]

    @staticmethod
    async def fetch(conn: asyncpg.Connection, query: Query, **values: object) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await conn.fetchrow(query.sql, *query.arguments(values))
        return row


async def read_json(receive: Receive) -> dict[str, Any]:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    try:
        body = json.loads(b"".join(chunks))
    except ValueError:
        raise HttpError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise HttpError(422, "the body must be a JSON object")
    return body


app = RawApp()
