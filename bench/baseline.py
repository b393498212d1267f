"""Another version of the service, measured beside this one in the same run (`--baseline REF`).

The version at a git ref, checked out as a detached worktree in .data/bench-baseline (moved to the
ref's commit when it is at another) and served from there: the same virtualenv and uvicorn command
line, with that checkout's impl/ and generated/ imported. Both serve the same database, so their
schemas must be the same: the same Alembic head, and no migration changed between them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from devtools.live_server import HTTP_PROTOCOL, ROOT

DIRECTORY = ROOT / ".data" / "bench-baseline"
MIGRATIONS = "alembic/versions"


@dataclass(frozen=True)
class Baseline:
    ref: str
    commit: str
    directory: Path
    alembic_head: str
    http_protocol: str  # the module path of its bounded HTTP protocol, which moved with impl/'s packages

    @property
    def label(self) -> str:
        return f"{self.ref} ({self.commit[:10]})"


def git(*arguments: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"--baseline: `git {' '.join(arguments)}` failed: {done.stderr.strip()}")
    return done.stdout.strip()


def alembic_head(directory: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "heads"], cwd=directory, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"--baseline: `alembic heads` failed in {directory}:\n{done.stderr.strip()}")
    return done.stdout.strip()


def http_protocol(directory: Path) -> str:
    """The `--http` protocol its own launcher names (devtools/live_server.py's HTTP_PROTOCOL); this one's if none."""
    launcher = directory / "devtools" / "live_server.py"
    for node in ast.parse(launcher.read_text()).body if launcher.exists() else []:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "HTTP_PROTOCOL" for t in node.targets):
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value
    return HTTP_PROTOCOL


def checkout(ref: str) -> Baseline:
    """The worktree of `ref`, made or moved to it; SystemExit when its schema is not this checkout's."""
    commit = git("rev-parse", "--verify", f"{ref}^{{commit}}")
    if (DIRECTORY / ".git").exists():
        if git("rev-parse", "HEAD", cwd=DIRECTORY) != commit:
            git("checkout", "--quiet", "--force", "--detach", commit, cwd=DIRECTORY)
    else:
        git("worktree", "prune")  # forget a baseline worktree whose directory was deleted
        git("worktree", "add", "--quiet", "--detach", str(DIRECTORY), commit)
    head, here = alembic_head(DIRECTORY), alembic_head(ROOT)
    changed = git("diff", "--name-only", commit, "--", MIGRATIONS)
    if head != here or changed:
        raise SystemExit(
            f"--baseline {ref}: its database schema is not this checkout's, so the two cannot share one "
            f"database (Alembic head {head!r} there, {here!r} here"
            + (f"; migrations changed since: {', '.join(changed.split())}" if changed else "")
            + ")."
        )
    return Baseline(ref, commit, DIRECTORY, head, http_protocol(DIRECTORY))


def this_commit() -> str:
    """The commit this checkout is at, marked when its working tree has changes."""
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return git("rev-parse", "HEAD") + (" with uncommitted changes" if dirty else "")
