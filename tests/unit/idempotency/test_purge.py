"""The purge of expired Idempotency-Keys, called directly on the test database (which other tests share:
a purge there removes every user's expired keys, so these tests only count their own users' keys)."""

from __future__ import annotations

import uuid

from asyncpg.pool import PoolConnectionProxy

from impl.db.database import Database
from impl.idempotency import purge
from impl.idempotency import repository as key_queries
from impl.idempotency.replays import IDEMPOTENCY_KEY_TTL_SECONDS
from tests.support.in_process import age_keys, held_keys
from tests.support.users import new_user_id

TTL = IDEMPOTENCY_KEY_TTL_SECONDS


async def hold_keys(database: Database, user_id: str, count: int) -> set[str]:
    keys = {str(uuid.uuid4()) for _ in range(count)}
    for key in keys:
        async with database.connection() as conn:
            await key_queries.create_with_key(
                conn,
                user_id=user_id,
                key=key,
                request_hash="hash",
                answer_location_prefix=f"/api/{user_id}/tasks/",
                ttl_seconds=TTL,
                max_keys=count,
                max_tasks=count,
                title="Buy milk",
                description=None,
            )
    return keys


async def test_a_purge_deletes_every_users_expired_keys_and_keeps_the_rest(
    database: Database, conn: PoolConnectionProxy, user_id: str
) -> None:
    other = new_user_id()
    await hold_keys(database, user_id, 2)
    await hold_keys(database, other, 1)
    for user in (user_id, other):
        await age_keys(conn, user, hours=25)
    unexpired = new_user_id()
    fresh = await hold_keys(database, unexpired, 2)
    async with database.transaction() as purging:
        purged = await key_queries.purge_expired_keys(purging, ttl_seconds=TTL, batch_size=1000)
    assert purged >= 3
    assert await held_keys(conn, user_id) == set()
    assert await held_keys(conn, other) == set()
    assert await held_keys(conn, unexpired) == fresh


async def test_a_purge_deletes_at_most_one_batch(database: Database, conn: PoolConnectionProxy, user_id: str) -> None:
    await hold_keys(database, user_id, 3)
    await age_keys(conn, user_id, hours=25)
    async with database.transaction() as purging:
        assert await key_queries.purge_expired_keys(purging, ttl_seconds=TTL, batch_size=2) == 2


async def test_a_purge_skips_its_turn_while_another_purge_holds_the_lock(
    database: Database, conn: PoolConnectionProxy, user_id: str
) -> None:
    expired = await hold_keys(database, user_id, 1)
    await age_keys(conn, user_id, hours=25)
    async with database.transaction() as other_process:
        assert await key_queries.try_purge_lock(other_process, lock_id=purge.PURGE_LOCK_ID)
        assert await purge.purge_expired_keys(database, ttl_seconds=TTL) == 0
        assert await held_keys(conn, user_id) == expired
    assert await purge.purge_expired_keys(database, ttl_seconds=TTL) >= 1
    assert await held_keys(conn, user_id) == set()
