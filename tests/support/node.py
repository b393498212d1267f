"""The pinned npm packages a test needs, installed the way `make` installs them."""

from __future__ import annotations

import subprocess

from devtools.live_server import ROOT


def npm_ci(folder: str) -> None:
    """`npm ci` in this folder (tools/node, clients/typescript) unless its lock is already installed."""
    subprocess.run([str(ROOT / "scripts" / "npm-ci.sh"), folder], cwd=ROOT, check=True)
