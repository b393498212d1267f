"""A real PgBouncer in transaction mode (as Neon's -pooler hosts run it) in front of the embedded PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from devtools import embedded_db
from devtools.live_server import free_port, stop_process

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
# Fewer server connections than the service's pool has clients: transactions really do move between
# server connections, which is what breaks session state such as named prepared statements.
SERVER_CONNECTIONS = 4
INI = """\
[databases]
* = host={socket_dir} port={postgres_port} user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory}/userlist.txt
pool_mode = transaction
default_pool_size = {server_connections}
max_client_conn = 1000
logfile = {directory}/pgbouncer.log
pidfile = {directory}/pgbouncer.pid
ignore_startup_parameters = extra_float_digits
"""


class PgBouncer:
    """pgbouncer on 127.0.0.1:port, run as the embedded PostgreSQL's user (it refuses to run as root, and
    that user can reach the server's socket); stop() ends it."""

    def __init__(self, postgres: embedded_db.PostgresServer, *, postgres_port: int = 5432) -> None:
        if not Path(PGBOUNCER).exists():
            raise RuntimeError("pgbouncer is not installed: `make system-packages` installs it (Debian: apt-get)")
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
        (self.directory / "userlist.txt").write_text('"postgres" ""\n')
        ini = self.directory / "pgbouncer.ini"
        ini.write_text(
            INI.format(
                socket_dir=embedded_db.socket_dir(postgres),
                postgres_port=postgres_port,
                port=self.port,
                directory=self.directory,
                server_connections=SERVER_CONNECTIONS,
            )
        )
        user = None
        if os.getuid() == 0:
            user = postgres.system_user
            shutil.chown(self.directory, user=user)
        self.process = subprocess.Popen(
            [PGBOUNCER, str(ini)], user=user, group=user, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        self._wait_until_listening()

    def _wait_until_listening(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited early:\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"pgbouncer did not start listening:\n{self.log()}")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)
