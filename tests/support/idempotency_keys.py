"""The Idempotency-Keys a user holds in the test database, and ageing them past their expiry."""

from __future__ import annotations

from tests.support.database import query
from tests.support.users import TaskOwner


def held_keys(database_url: str, user: TaskOwner) -> set[str]:
    return {row[0] for row in query(database_url, "SELECT key FROM idempotency_keys WHERE user_id = $1", user.id)}


def age_keys(database_url: str, user: TaskOwner, hours: float) -> None:
    query(
        database_url,
        "UPDATE idempotency_keys SET created_at = created_at - make_interval(hours => $2) WHERE user_id = $1",
        user.id,
        hours,
    )
