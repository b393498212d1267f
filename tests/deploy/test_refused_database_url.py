"""A DATABASE_URL the service cannot honour stops its process at start, with a message that names the fix."""

from __future__ import annotations

import pytest

from devtools.live_server import LiveServer
from tests.support.environments import REPORTS, shared_secret_env

# As Neon's console hands it out: asyncpg cannot do channel binding (decision 0028).
NEON_CONSOLE = (
    "postgresql://app:secret@ep-cool-lake-123456-pooler.eu-central-1.aws.neon.tech/tasks"
    "?sslmode=require&channel_binding=require"
)


def test_the_service_process_exits_at_start_with_the_message() -> None:
    env = shared_secret_env(NEON_CONSOLE)
    with pytest.raises(RuntimeError, match="server exited early") as refused:
        LiveServer(env, log_path=REPORTS / "server-refused-database-url.log")
    assert "Remove channel_binding=require" in str(refused.value)
    assert "secret" not in str(refused.value)
