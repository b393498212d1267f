"""Cursors as an attacker who holds the service's cursor key would make them: any plaintext, sealed for a list.

The tests read the key from the test database (every instance reads it from there too), so they can
put any position, of any type, into a cursor the service opens: only its position checks stand
between such a cursor and SQL.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from impl.tasks.listing.cursors import list_identity, tags_identity
from tests.support.database import plain_dsn


async def read_cursor_key(database_url: str) -> bytes:
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        return bytes(await conn.fetchval("SELECT secret FROM service_keys WHERE purpose = 'cursor'"))
    finally:
        await conn.close()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(key: bytes, plaintext: bytes, user_id: str, *, sort: str, order: str, status: str = "all") -> str:
    """A cursor for this user's unfiltered list in this sort and order, holding exactly this plaintext."""
    list_id = list_identity(user_id, status=status, sort=sort, order=order)
    return b64url(AESSIV(key).encrypt(plaintext, [list_id]))


def seal_tags(key: bytes, plaintext: bytes, user_id: str) -> str:
    """A cursor for this user's tag list, holding exactly this plaintext."""
    return b64url(AESSIV(key).encrypt(plaintext, [tags_identity(user_id)]))


def seal_json(key: bytes, parts: Any, user_id: str, *, sort: str, order: str) -> str:
    """Sealed JSON; lone surrogates in text travel as `\\ud800` escapes, as ensure_ascii writes them."""
    return seal(key, json.dumps(parts).encode(), user_id, sort=sort, order=order)


def legacy_cursor(parts: list[Any], *, sort: str, order: str) -> str:
    """A cursor in the unsealed format of 1.2.0's first draft: base64url JSON `[key, id, fingerprint]`, the
    fingerprint an unkeyed hash of the (unfiltered) query, which anyone could compute."""
    query = {"status": "all", "sort": sort, "order": order, "q": None, "tags": []}
    query |= {"due_before": None, "due_after": None, "overdue": None}
    canonical = json.dumps(query, sort_keys=True, separators=(",", ":"))
    return b64url(json.dumps([*parts, hashlib.sha256(canonical.encode()).hexdigest()[:16]]).encode())
