"""`make run`: migrate and serve the API; with no DATABASE_URL, on an embedded PostgreSQL in .data/."""

from __future__ import annotations

import argparse
import os
import signal
from types import FrameType

import uvicorn
from dotenv import load_dotenv

from devtools import embedded_db, migrate
from devtools.dev_secret import ensure_shared_secret_env
from impl.database_url import configured_migration_url
from impl.postgresql_version import UnsupportedPostgreSQL

DEV_DATABASE = "tasks"


def exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    args = parser.parse_args(argv)
    load_dotenv()
    # The service's start-up connection budget check counts the processes sharing the database by it.
    os.environ["WEB_CONCURRENCY"] = str(args.workers)

    # uvicorn re-raises SIGTERM once it has shut down; as an exception it reaches the finally below.
    signal.signal(signal.SIGTERM, exit_on_signal)
    embedded = None
    if not os.environ.get("DATABASE_URL"):
        embedded = embedded_db.start(stop_at_exit=False)
        embedded_db.create_database(embedded, DEV_DATABASE)
        os.environ["DATABASE_URL"] = embedded_db.database_url(embedded, DEV_DATABASE)
        print(f"Embedded PostgreSQL in {embedded.pgdata} (stops when this command exits).", flush=True)
    try:
        ensure_shared_secret_env()
        try:
            migrate.upgrade(configured_migration_url())
        except UnsupportedPostgreSQL as error:
            raise SystemExit(f"Not migrating: {error}") from None
        if not os.environ.get("JWKS_URL"):
            print(
                "Shared-secret auth. Get a token:  TOKEN=$(make -s token USER_ID=alice)\n"
                f'Then:  curl -H "Authorization: Bearer $TOKEN" http://{args.host}:{args.port}/api/alice/tasks',
                flush=True,
            )
        uvicorn.run(
            "impl.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            proxy_headers=False,
            access_log=False,
            timeout_graceful_shutdown=10,
            http="impl.server_protocol:BoundedHttpToolsProtocol",
        )
    finally:
        if embedded is not None:
            embedded_db.stop(embedded)


if __name__ == "__main__":
    main()
