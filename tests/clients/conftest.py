"""The clients `make clients` builds, once per session, for the tests that install them."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.clients.release import ContractRelease, contract_release
from devtools.live_server import ROOT


@dataclass(frozen=True)
class BuiltClients:
    release: ContractRelease
    npm_package: Path
    python_wheel: Path


@pytest.fixture(scope="session")
def built_clients(tmp_path_factory: pytest.TempPathFactory) -> BuiltClients:
    """What `make clients` runs, into a scratch folder instead of build/clients."""
    out = tmp_path_factory.mktemp("clients")
    command = [sys.executable, "-m", "devtools.clients", "--out", str(out)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    npm_package, python_wheel = (Path(line) for line in result.stdout.split())
    return BuiltClients(contract_release(), npm_package, python_wheel)
