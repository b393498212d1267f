"""The one launcher the tests and the bench start servers with."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from devtools.live_server import LiveServer
from tests.support.environments import REPORTS, shared_secret_env


def processes_with(marker: str) -> list[int]:
    """Pids of the running processes whose environment holds marker."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def test_a_server_that_does_not_start_in_time_is_not_left_running(database_url: str) -> None:
    marker = f"LIVE_SERVER_TEST_{uuid.uuid4().hex}"
    env = {**shared_secret_env(database_url), marker: "1"}
    with pytest.raises(RuntimeError, match="did not start"):
        LiveServer(env, log_path=REPORTS / "server-too-slow.log", name="too slow", timeout=0.01)
    assert processes_with(marker) == []
