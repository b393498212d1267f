"""`tasks-api migrate`: Alembic upgrade to head over the direct URL, safe to run from several places at once."""

from __future__ import annotations

import argparse
import os
import sys

from impl.cli.database_errors import UNREACHABLE, unreachable_message
from impl.cli.exit_codes import DATABASE_UNREACHABLE, POSTGRESQL_UNSUPPORTED, SETTINGS_INVALID, CommandFailed
from impl.db import migrations
from impl.db.postgresql_version import UnsupportedPostgreSQL
from impl.db.url import DatabaseUrlError

NO_DATABASE_URL = (
    "DATABASE_URL is not set: set it (or DATABASE_URL_UNPOOLED, the direct URL migrations prefer) "
    "to the PostgreSQL URL to migrate, e.g. postgresql://user:password@host/dbname"
)


def migrate(_: argparse.Namespace) -> None:
    if not (os.environ.get("DATABASE_URL") or os.environ.get("DATABASE_URL_UNPOOLED")):
        raise CommandFailed(SETTINGS_INVALID, NO_DATABASE_URL)
    try:
        migrated = migrations.upgrade()
    except DatabaseUrlError as error:
        raise CommandFailed(SETTINGS_INVALID, f"not migrating: {error}") from None
    except UnsupportedPostgreSQL as error:
        raise CommandFailed(POSTGRESQL_UNSUPPORTED, f"not migrating: {error}") from None
    except UNREACHABLE as error:
        raise CommandFailed(DATABASE_UNREACHABLE, f"not migrating: {unreachable_message(error)}") from None
    if migrated.before == migrated.after:
        print(f"Schema already at head ({migrated.after}).", file=sys.stderr, flush=True)
    else:
        print(f"Schema upgraded from {migrated.before or 'nothing'} to {migrated.after}.", file=sys.stderr, flush=True)
