"""`make mock`: `tasks-api mock` on HOST and PORT (127.0.0.1:8000), as `make run` serves: no database, and with
no auth configured the development secret of `make run`, so `make token` mints tokens it accepts."""

from __future__ import annotations

import argparse
import os

from dotenv import load_dotenv

from devtools.dev_secret import ensure_shared_secret_env
from impl import cli


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args(argv)
    load_dotenv()
    ensure_shared_secret_env()
    url = f"http://{args.host}:{args.port}"
    print(
        f"The mock of every operation, from openapi/tasks.yaml's examples, on {url} (no database).\n"
        "Get a token:  TOKEN=$(make -s token USER_ID=alice)\n"
        f'Then:  curl -H "Authorization: Bearer $TOKEN" -H "Prefer: example=empty" {url}/api/alice/tasks',
        flush=True,
    )
    cli.main(["mock", "--host", args.host, "--port", str(args.port), "--workers", "1"])


if __name__ == "__main__":
    main()
