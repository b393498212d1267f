"""tasks-api, the one entry point (decision 0034): serve, migrate, check, token (shared-secret mode) and mock."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from impl.cli import exit_codes, serve_arguments
from impl.cli.exit_codes import CommandFailed

# Imported only when run: each uvicorn worker re-imports this module (the console script is its main
# module) before it answers the parent's health check, which allows it 5 s by default.
RUNS = {
    "serve": "impl.cli.serve:serve",
    "migrate": "impl.cli.migrate:migrate",
    "check": "impl.cli.check:check",
    "token": "impl.cli.token:token",
    "mock": "impl.cli.mock:mock",
}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="tasks-api",
        description=__doc__,
        epilog=exit_codes.described(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    raw = argparse.RawDescriptionHelpFormatter

    serving = commands.add_parser(
        "serve",
        help="serve the API (production defaults; needs DATABASE_URL; does not migrate)",
        description="Serve the API with uvicorn (uvloop, httptools with bounded request heads). Needs "
        "DATABASE_URL and JWT_SECRET or JWKS_URL; does not migrate: run `tasks-api migrate` first. Until the "
        "database's schema is at this code's head, requests and /readyz answer 503 and the log says why.",
    )
    serve_arguments.add_arguments(serving)

    commands.add_parser(
        "migrate",
        help="upgrade the schema to head over the direct URL (safe from several places at once)",
        description="Alembic upgrade to head over DATABASE_URL_UNPOOLED, else DATABASE_URL (refused through a "
        "transaction pooler), under a PostgreSQL advisory lock: runners at once migrate one after another, and "
        "those after the first find nothing to do.",
        epilog=exit_codes.described(),
        formatter_class=raw,
    )

    commands.add_parser(
        "check",
        help="check settings, database reachability and schema revision; the exit code says which failed",
        description="Validate the settings, connect over DATABASE_URL as the service does, and compare the "
        "schema's revision with this code's head. Prints one line; the exit code says what failed.",
        epilog=exit_codes.described(),
        formatter_class=raw,
    )

    token = commands.add_parser(
        "token",
        help="mint a token for USER_ID, signed with JWT_SECRET (shared-secret mode only)",
        description="Mint an HS256 token for USER_ID with JWT_SECRET (and JWT_ISSUER, JWT_AUDIENCE when set). "
        "`make token` runs `python -m devtools.token`, which uses the development secret of `make run`.",
    )
    token.add_argument("user_id")
    token.add_argument("--minutes", type=float, default=60)

    mocking = commands.add_parser(
        "mock",
        help="serve every operation from the spec's examples: no database (Prefer: code=NNN, example=NAME)",
        description="Serve every operation of the spec from its examples, through the same routes, validation, "
        "authentication (JWT_SECRET or JWKS_URL) and problem documents as `serve`, with no database. "
        "`Prefer: example=NAME` picks an example, `Prefer: code=NNN` a documented status; without them, the "
        "first example of the success answer (decision 0058).",
    )
    serve_arguments.add_arguments(mocking)
    return root


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    module, function = RUNS[args.command].split(":")
    try:
        getattr(importlib.import_module(module), function)(args)
    except CommandFailed as failure:
        print(f"tasks-api {args.command}: {failure.message}", file=sys.stderr, flush=True)
        raise
