"""The PostgreSQL majors this service runs on: 17 and newer (decision 0031)."""

from __future__ import annotations

from collections.abc import Sequence

from impl.db.errors import UnusableDatabase

# Search folds case under the pg_c_utf8 collation, which PostgreSQL has from 17 on (decision 0015).
OLDEST_SUPPORTED_MAJOR = 17


class UnsupportedPostgreSQL(UnusableDatabase):
    """The server is older than the oldest supported major: migrations and the service refuse it."""


def require_supported(version: Sequence[int | str]) -> None:
    """Refuse a server whose version (major, minor, ...) is below the oldest supported major."""
    major, minor = int(version[0]), int(version[1]) if len(version) > 1 else 0
    if major < OLDEST_SUPPORTED_MAJOR:
        raise UnsupportedPostgreSQL(
            f"PostgreSQL {major}.{minor} is too old: tasks-api needs {OLDEST_SUPPORTED_MAJOR} or newer"
            f" (on Neon, create the project with PostgreSQL {OLDEST_SUPPORTED_MAJOR} or newer)"
        )
