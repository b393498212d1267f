"""The build's steps are other tools' commands; one that fails stops the build with its output."""

from __future__ import annotations

import subprocess
from pathlib import Path


def run(command: list[str], cwd: Path) -> str:
    """The command's standard output; SystemExit with everything it printed when it fails."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        output = result.stdout + result.stderr
        raise SystemExit(f"clients: {' '.join(command)} failed (exit {result.returncode}):\n{output}")
    return result.stdout
