"""Mint a development token: `python -m devtools.token USER_ID [--minutes N]` (what `make token` runs).

With no auth configured, signs with the development secret `make run` serves with (.data/dev-jwt-secret).
"""

from __future__ import annotations

import argparse
import sys

from dotenv import load_dotenv

from devtools.dev_secret import ensure_shared_secret_env
from impl.cli.token import mint
from impl.settings import Settings

__all__ = ["main", "mint"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("user_id")
    parser.add_argument("--minutes", type=float, default=60)
    args = parser.parse_args(argv)
    load_dotenv()
    ensure_shared_secret_env()
    sys.stdout.write(mint(Settings(), args.user_id, minutes=args.minutes) + "\n")


if __name__ == "__main__":
    main()
