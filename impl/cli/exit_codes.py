"""What each `tasks-api` exit code means; `tasks-api check --help` and docs/operate.md list them."""

from __future__ import annotations

OK = 0
# argparse's own exit code for a bad command line.
USAGE = 2
SETTINGS_INVALID = 3
DATABASE_UNREACHABLE = 4
POSTGRESQL_UNSUPPORTED = 5
SCHEMA_BEHIND = 6
SCHEMA_AHEAD = 7

MEANINGS = {
    OK: "settings valid, database reachable, schema at head",
    USAGE: "bad command line",
    SETTINGS_INVALID: "settings invalid or missing (e.g. DATABASE_URL, JWT_SECRET or JWKS_URL)",
    DATABASE_UNREACHABLE: "database unreachable (connection refused, timed out, TLS or login failed)",
    POSTGRESQL_UNSUPPORTED: "PostgreSQL older than the oldest supported major (17)",
    SCHEMA_BEHIND: "schema behind the code's head revision, or never migrated: run `tasks-api migrate`",
    SCHEMA_AHEAD: "schema at a revision this code does not know (newer code migrated it)",
}


def described() -> str:
    return "exit codes:\n" + "\n".join(f"  {code}  {meaning}" for code, meaning in MEANINGS.items())


class CommandFailed(SystemExit):
    """One line on stderr, then this exit code: what failed and what to do about it."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code)
        self.message = message
