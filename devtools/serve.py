"""`make run`: `tasks-api migrate` then `tasks-api serve` on 127.0.0.1; with no DATABASE_URL, on an embedded
PostgreSQL in .data/, and with no auth configured, the development secret."""

from __future__ import annotations

import argparse
import os
import signal
from types import FrameType

from dotenv import load_dotenv

from devtools import embedded_db
from devtools.dev_secret import ensure_shared_secret_env
from impl import cli

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
        cli.main(["migrate"])
        if not os.environ.get("JWKS_URL"):
            print(
                "Shared-secret auth. Get a token:  TOKEN=$(make -s token USER_ID=alice)\n"
                f'Then:  curl -H "Authorization: Bearer $TOKEN" http://{args.host}:{args.port}/api/alice/tasks',
                flush=True,
            )
        cli.main(["serve", "--host", args.host, "--port", str(args.port), "--workers", str(args.workers)])
    finally:
        if embedded is not None:
            embedded_db.stop(embedded)


if __name__ == "__main__":
    main()
