"""The bench's Python stack limit: the bench's operations as a bare ASGI app written from scratch.

It shares nothing with the service but the database schema and the wire format: no module of impl/,
generated/, contract_runtime/ or devtools/ (tests/tooling/test_bench_bare_app.py checks that), its own SQL
written by hand, one statement per operation (a list's page and total included), its own asyncpg
pool, its own HS256 check with python-jose. It is what a competent engineer would write for these
operations without a framework, not a deliberately slow straw man. Decision 0045 says what it does
and does not do (no request log, no response validation, no request ids; it issues a list cursor but
does not read one back).

Environment: DATABASE_URL, JWT_SECRET, optional JWT_ISSUER and JWT_AUDIENCE, DB_POOL_MAX_SIZE
(default 10, as the service's), MAX_TASKS_PER_USER (default 100000, as the service's).
"""

from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import os
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
from jose import jwt
from jose.exceptions import JOSEError
from pydantic_core import from_json, to_json

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Answer = tuple[int, Any, list[tuple[bytes, bytes]]]

COLUMNS = "id, title, description, completed, priority, due_at, tags, created_at, updated_at"
VERSIONED = f"{COLUMNS}, version"
SORT_COLUMNS = {
    "created": "created_at",
    "updated": "updated_at",
    "title": "title",
    "due": "due_at",
    "priority": "priority",
}
STATUS_CONDITIONS = {"all": "", "pending": " AND NOT completed", "completed": " AND completed"}
# The same lower-cased expressions the trigram indexes hold, so a search can use them.
SEARCH = (
    " AND (lower(title COLLATE pg_c_utf8) LIKE lower({0} COLLATE pg_c_utf8)"
    " OR lower(description COLLATE pg_c_utf8) LIKE lower({0} COLLATE pg_c_utf8))"
)
OVERDUE = "(due_at < now() AND NOT completed)"
# Statements are put together from this module's constants only; every value a request gives is bound.
GET = f"SELECT {VERSIONED} FROM tasks WHERE user_id = $1 AND id = $2"  # noqa: S608
# The user's row counts their tasks (the schema's quota bookkeeping); a first create makes it.
CREATE = f"""WITH counted AS (
    INSERT INTO users (id, task_count) SELECT $1, 1 WHERE $4::int > 0
    ON CONFLICT (id) DO UPDATE SET task_count = users.task_count + 1 WHERE users.task_count < $4::int
    RETURNING id)
INSERT INTO tasks (user_id, title, description) SELECT id, $2, $3 FROM counted RETURNING {VERSIONED}"""  # noqa: S608
UPDATE_TITLE = (
    f"UPDATE tasks SET title = $3, version = version + 1, updated_at = now() "  # noqa: S608
    f"WHERE user_id = $1 AND id = $2 RETURNING {VERSIONED}"
)
TOGGLE = (
    f"UPDATE tasks SET completed = NOT completed, version = version + 1, updated_at = now() "  # noqa: S608
    f"WHERE user_id = $1 AND id = $2 RETURNING {VERSIONED}"
)
DELETE = """WITH deleted AS (DELETE FROM tasks WHERE user_id = $1 AND id = $2 RETURNING id),
uncounted AS (UPDATE users SET task_count = task_count - 1 WHERE id = $1 AND EXISTS (SELECT FROM deleted))
SELECT id FROM deleted"""
TITLE_LENGTH, DESCRIPTION_LENGTH, TAG_LENGTH, TEXT_LENGTH = 200, 1000, 30, 200
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", re.IGNORECASE)
JSON = (b"content-type", b"application/json")
PROBLEM_JSON = (b"content-type", b"application/problem+json")


class Refused(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def problem(refused: Refused, path: str) -> tuple[int, dict[str, Any]]:
    status = refused.status
    return status, {
        "type": "about:blank",
        "title": refused.title,
        "status": status,
        "detail": refused.detail,
        "instance": path,
    }


def invalid(detail: str) -> Refused:
    return Refused(422, "Unprocessable Content", detail)


def list_sql(
    status: str, sort: str, order: str, text: bool, tags: bool, before: bool, after: bool, overdue: str
) -> str:
    """The page and the total of one list shape in one statement: $1 user, $2 limit, $3 offset, then the filters."""
    where, n = "user_id = $1" + STATUS_CONDITIONS[status], 3
    for given, condition in ((text, SEARCH), (tags, " AND tags @> {0}::text[]"), (before, " AND due_at < {0}")):
        if given:
            n += 1
            where += condition.format(f"${n}")
    if after:
        where += f" AND due_at >= ${n + 1}"
    if overdue:
        where += f" AND {OVERDUE}" if overdue == "true" else f" AND NOT coalesce({OVERDUE}, false)"
    direction = "DESC" if order == "desc" else "ASC"
    nulls = " NULLS LAST" if sort == "due" else ""
    key = SORT_COLUMNS[sort]
    order_by = f"{{0}}{key} {direction}{nulls}, {{0}}id {direction}"
    return (
        f"SELECT counted.total, page.* FROM (SELECT count(*) AS total FROM tasks WHERE {where}) AS counted "  # noqa: S608
        f"LEFT JOIN LATERAL (SELECT {VERSIONED} FROM tasks WHERE {where} ORDER BY {order_by.format('')} "
        f"LIMIT $2 OFFSET $3) AS page ON true ORDER BY {order_by.format('page.')}"
    )


def task_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "completed": row["completed"],
        "priority": row["priority"],
        "due_at": row["due_at"],
        "tags": row["tags"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def one_of(query: dict[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = query.get(name, default)
    if value not in allowed:
        raise invalid(f"{name} must be one of {', '.join(allowed)}")
    return value


def integer(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise invalid(f"{name} must be an integer from {low} to {high}")
    return int(raw)


def instant(query: dict[str, str], name: str) -> datetime | None:
    raw = query.get(name)
    if raw is None:
        return None
    if not RFC3339.fullmatch(raw):
        raise invalid(f"{name} must be an RFC 3339 date-time with an offset")
    try:
        return datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"{name} must be an RFC 3339 date-time with an offset") from None


def text_field(body: dict[str, Any], name: str, length: int, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required and name not in body:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > length:
        raise invalid(f"{name} must be a string of 1 to {length} characters, not blank")
    return value


class BareApp:
    def __init__(self) -> None:
        self.secret = os.environ["JWT_SECRET"]
        self.issuer = os.environ.get("JWT_ISSUER") or None
        self.audience = os.environ.get("JWT_AUDIENCE") or None
        self.max_tasks = int(os.environ.get("MAX_TASKS_PER_USER") or 100_000)
        self.cursor_key = hashlib.sha256(b"bare-app cursor " + self.secret.encode()).digest()
        self.pool: asyncpg.Pool | None = None
        self.lists: dict[tuple[Any, ...], str] = {}
        # Tokens already verified, with their subject and expiry: a client sends the same one for minutes.
        self.verified: dict[str, tuple[str, int]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                status, body, headers = await self.handle(scope, receive)
                if body is not None:
                    headers.append(JSON)
            except Refused as refused:
                status, body = problem(refused, scope["path"])
                headers = [PROBLEM_JSON]
            payload = b"" if body is None else to_json(body)
            headers.append((b"content-length", str(len(payload)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    dsn = re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", os.environ["DATABASE_URL"])
                    max_size = int(os.environ.get("DB_POOL_MAX_SIZE") or 10)
                    self.pool = await asyncpg.create_pool(dsn, min_size=0, max_size=max_size)
                    gc.freeze()  # what start-up allocated is never garbage: keep it out of every collection
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self.pool is not None:
                        await self.pool.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    def authenticate(self, scope: Scope, user_id: str) -> None:
        authorization = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Refused(401, "Unauthorized", "A bearer token is required.")
        known = self.verified.get(token)
        if known is None or known[1] <= time.time():
            try:
                claims = jwt.decode(
                    token,
                    self.secret,
                    algorithms=["HS256"],
                    issuer=self.issuer,
                    audience=self.audience,
                    options={"require_exp": True, "require_sub": True},
                )
            except JOSEError:
                raise Refused(401, "Unauthorized", "The bearer token is not valid.") from None
            if len(self.verified) >= 10_000:
                self.verified.clear()
            known = self.verified[token] = (str(claims["sub"]), int(claims["exp"]))
        if known[0] != user_id:
            raise Refused(403, "Forbidden", "The token's subject may not access this user's tasks.")

    async def handle(self, scope: Scope, receive: Receive) -> Answer:
        parts = scope["path"].split("/")  # "", "api", user, "tasks"[, id[, "complete"]]
        method = scope["method"]
        if scope["path"] == "/healthz":
            return 200, {"status": "ok"}, []
        if not 4 <= len(parts) <= 6 or parts[0] or parts[1] != "api" or parts[3] != "tasks" or not parts[2]:
            raise Refused(404, "Not Found", "No such resource.")
        user_id = parts[2]
        self.authenticate(scope, user_id)
        if len(parts) == 4:
            if method == "GET":
                return await self.list_tasks(user_id, scope["query_string"])
            if method == "POST":
                return await self.create(user_id, await read_json(receive))
            raise Refused(405, "Method Not Allowed", f"{method} is not allowed here.")
        if not (parts[4].isascii() and parts[4].isdigit()) or len(parts[4]) > 18:
            raise invalid("task_id must be an integer")
        task_id = int(parts[4])
        if len(parts) == 6:
            if parts[5] != "complete":
                raise Refused(404, "Not Found", "No such resource.")
            if method != "PATCH":
                raise Refused(405, "Method Not Allowed", f"{method} is not allowed here.")
            return await self.task(TOGGLE, user_id, task_id)
        if method == "GET":
            return await self.task(GET, user_id, task_id)
        if method == "PATCH":
            body = await read_json(receive)
            if body.keys() != {"title"}:
                raise invalid("the bare app updates a task's title only")
            return await self.task(
                UPDATE_TITLE, user_id, task_id, text_field(body, "title", TITLE_LENGTH, required=True)
            )
        if method == "DELETE":
            assert self.pool is not None
            if await self.pool.fetchval(DELETE, user_id, task_id) is None:
                raise Refused(404, "Not Found", f"Task {task_id} does not exist.")
            return 204, None, []
        raise Refused(405, "Method Not Allowed", f"{method} is not allowed here.")

    async def task(self, sql: str, user_id: str, task_id: int, *values: object) -> Answer:
        assert self.pool is not None
        row = await self.pool.fetchrow(sql, user_id, task_id, *values)
        if row is None:
            raise Refused(404, "Not Found", f"Task {task_id} does not exist.")
        return 200, task_json(row), [(b"etag", f'"{row["version"]}"'.encode())]

    async def create(self, user_id: str, body: dict[str, Any]) -> Answer:
        if not body.keys() <= {"title", "description"}:
            raise invalid("the bare app creates tasks with a title and a description only")
        title = text_field(body, "title", TITLE_LENGTH, required=True)
        description = text_field(body, "description", DESCRIPTION_LENGTH, required=False)
        assert self.pool is not None
        row = await self.pool.fetchrow(CREATE, user_id, title, description, self.max_tasks)
        if row is None:
            raise Refused(409, "Conflict", f"You have {self.max_tasks} tasks, the most one user may have.")
        location = f"/api/{user_id}/tasks/{row['id']}".encode()
        return 201, task_json(row), [(b"location", location), (b"etag", f'"{row["version"]}"'.encode())]

    async def list_tasks(self, user_id: str, query_string: bytes) -> Answer:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        query = dict(pairs)
        if "cursor" in query:
            raise invalid("the bare app issues cursors but does not read them")
        status = one_of(query, "status", ("all", "pending", "completed"), "all")
        sort = one_of(query, "sort", tuple(SORT_COLUMNS), "created")
        order = one_of(query, "order", ("asc", "desc"), "desc")
        overdue = one_of(query, "overdue", ("true", "false", ""), "") if "overdue" in query else ""
        limit = integer(query, "limit", 20, 1, 100)
        offset = integer(query, "offset", 0, 0, 2**31 - 1)
        text = query.get("q")
        if text is not None and not 1 <= len(text) <= TEXT_LENGTH:
            raise invalid(f"q must be 1 to {TEXT_LENGTH} characters")
        tags = sorted({value.lower() for name, value in pairs if name == "tag"})
        if any(not 1 <= len(tag) <= 2 * TAG_LENGTH for tag in tags) or len(tags) > 10:
            raise invalid(f"at most 10 tags of 1 to {TAG_LENGTH} characters")
        before, after = instant(query, "due_before"), instant(query, "due_after")
        shape = (status, sort, order, text is not None, bool(tags), before is not None, after is not None, overdue)
        sql = self.lists.get(shape)
        if sql is None:
            sql = self.lists[shape] = list_sql(*shape)
        values: list[object] = [user_id, limit, offset]
        if text is not None:
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            values.append(f"%{escaped}%")
        values += [value for value in (tags or None, before, after) if value is not None]
        assert self.pool is not None
        rows = await self.pool.fetch(sql, *values)
        total = rows[0]["total"]
        items = [task_json(row) for row in rows if row["id"] is not None]
        next_cursor = None
        if offset + len(items) < total and items:
            last = items[-1]
            next_cursor = self.cursor(last[SORT_COLUMNS[sort]], last["id"])
        # The page's weak validator, as the contract promises: the query, the total, each task's version.
        page = hashlib.blake2b(f"{user_id}?{query_string!r}:{total}".encode(), digest_size=16)
        page.update(b"".join(b"%d.%d," % (row["id"], row["version"]) for row in rows if row["id"] is not None))
        etag = b'W/"p-' + base64.urlsafe_b64encode(page.digest()).rstrip(b"=") + b'"'
        answer = {"items": items, "total": total, "limit": limit, "offset": offset, "next_cursor": next_cursor}
        return 200, answer, [(b"etag", etag)]

    def cursor(self, key: object, task_id: int) -> str:
        """Where the next page starts, signed so it cannot be forged."""
        position = to_json([key, task_id])
        seal = hmac.digest(self.cursor_key, position, "sha256")[:16]
        return base64.urlsafe_b64encode(seal + position).rstrip(b"=").decode()


async def read_json(receive: Receive) -> dict[str, Any]:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    try:
        body = from_json(b"".join(chunks))
    except ValueError:
        raise Refused(400, "Bad Request", "The body is not JSON.") from None
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object")
    return body


app = BareApp()
