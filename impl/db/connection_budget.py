"""Whether every process's pool at its largest fits the connections the server allows (decision 0030).

Checked once per process, the first time the database answers (Database's on_first_answer): not before
start-up, which must not wait for a database that may be down, and not at start-up either, which would
wake an idle serverless database (Neon) and hold a pooled connection open for DB_POOL_IDLE_SECONDS.
"""

from __future__ import annotations

import logging

from impl.db.database import Database, uses_transaction_pooler
from impl.db.errors import is_database_unavailable
from impl.settings import Settings

logger = logging.getLogger("tasks_api.database")

# Connections ordinary roles may open: max_connections less the slots kept for superusers and, from
# PostgreSQL 16, for roles with pg_use_reserved_connections (missing_ok: NULL before 16).
BUDGET_SQL = """
SELECT current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int,
       coalesce(current_setting('reserved_connections', true), '0')::int
"""


def worst_case(settings: Settings) -> str:
    return (
        f"{settings.processes} process(es) (DB_EXPECTED_PROCESSES or WEB_CONCURRENCY) x DB_POOL_MAX_SIZE "
        f"{settings.db_pool_max_size} = {settings.processes * settings.db_pool_max_size} connections"
    )


async def check_connection_budget(database: Database) -> None:
    """Log a WARNING when processes x DB_POOL_MAX_SIZE exceeds what the server lets this service open."""
    settings = database.settings
    if uses_transaction_pooler(settings):
        # The pooler multiplexes: its max_client_conn bounds our connections, its pool size the server's.
        logger.info(
            "connection budget: behind a transaction pooler; %s must fit the pooler's client limit "
            "(max_client_conn), not the server's max_connections",
            worst_case(settings),
        )
        return
    try:
        async with database.uncounted_connection() as conn:
            row = await conn.fetchrow(BUDGET_SQL)
    except Exception as exc:
        if is_database_unavailable(exc):
            logger.warning("connection budget: not checked, the database is unavailable (%s)", type(exc).__name__)
        else:
            logger.exception("connection budget: not checked")
        return
    assert row is not None  # a SELECT without FROM has one row
    max_connections, superuser_reserved, reserved = row
    budget = max_connections - superuser_reserved - reserved
    needed = settings.processes * settings.db_pool_max_size
    if needed > budget:
        logger.warning(
            "connection budget exceeded: %s, but the server allows %d (max_connections %d - "
            "superuser_reserved_connections %d - reserved_connections %d), shared with every other client. "
            "Under load requests will fail with 'too many connections': lower DB_POOL_MAX_SIZE or the process "
            "count, or use a pooled URL (DATABASE_URL behind a transaction pooler)",
            worst_case(settings),
            budget,
            max_connections,
            superuser_reserved,
            reserved,
        )
    else:
        logger.info("connection budget: %s of the %d the server allows", worst_case(settings), budget)
