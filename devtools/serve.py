"""`make run`: migrate and serve the API; with no DATABASE_URL, on an embedded PostgreSQL in .data/."""

from __future__ import annotations

import argparse
import os

import uvicorn
from dotenv import load_dotenv

from devtools import embedded_db, migrate
from devtools.dev_secret import ensure_shared_secret_env

DEV_DATABASE = "tasks"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    args = parser.parse_args(argv)
    load_dotenv()

    if not os.environ.get("DATABASE_URL"):
        server = embedded_db.start()
        embedded_db.create_database(server, DEV_DATABASE)
        os.environ["DATABASE_URL"] = embedded_db.database_url(server, DEV_DATABASE)
        print(f"Embedded PostgreSQL in {server.pgdata} (stops when this command exits).", flush=True)
    ensure_shared_secret_env()
    migrate.upgrade(os.environ["DATABASE_URL"])
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
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
