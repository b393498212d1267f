"""Settings read and validated before anything starts, failing as one line that says what to set."""

from __future__ import annotations

import os

from pydantic import ValidationError

from impl.cli.exit_codes import SETTINGS_INVALID, CommandFailed
from impl.settings import Settings

NO_DATABASE_URL = (
    "DATABASE_URL is not set: set it to the PostgreSQL URL to serve from, "
    "e.g. postgresql://user:password@host/dbname (`make run` starts a development database instead)"
)


def valid_settings() -> Settings:
    if not os.environ.get("DATABASE_URL"):
        raise CommandFailed(SETTINGS_INVALID, NO_DATABASE_URL)
    return read_settings()


def read_settings() -> Settings:
    """The settings from the environment, whether or not they name a database."""
    try:
        return Settings()
    except ValidationError as error:
        raise CommandFailed(SETTINGS_INVALID, f"invalid settings: {one_line(error)}") from None


def one_line(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']).upper() or 'settings'}: "
        + problem["msg"].removeprefix("Value error, ")
        for problem in error.errors()
    )
