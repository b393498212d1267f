"""The clients `make clients` builds, and the fresh projects a team would make to install one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from devtools.clients.release import ContractRelease, contract_release
from devtools.live_server import ROOT
from tests.support.clients import TYPESCRIPT

# The frontend's compiler settings are the source's. Declaration files are not checked themselves (the build
# emitted the package's; checking @types/node as well takes seconds), every use of them is.
FRONTEND_TSCONFIG = {
    "compilerOptions": {
        "target": "ES2022",
        "lib": ["ES2022", "DOM"],
        "module": "NodeNext",
        "moduleResolution": "NodeNext",
        "noEmit": True,
        "strict": True,
        "noUncheckedIndexedAccess": True,
        "exactOptionalPropertyTypes": True,
        "skipLibCheck": True,
        "types": ["node"],
        "typeRoots": [str(TYPESCRIPT / "node_modules" / "@types")],
    },
    "include": ["scenario"],
}


@dataclass(frozen=True)
class BuiltClients:
    release: ContractRelease
    npm_package: Path
    python_wheel: Path


def run(command: list[str], cwd: Path) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def build_clients(out: Path) -> BuiltClients:
    """What `make clients` runs, into `out` instead of build/clients."""
    npm_package, python_wheel = run([sys.executable, "-m", "devtools.clients", "--out", str(out)], ROOT).split()
    return BuiltClients(contract_release(), Path(npm_package), Path(python_wheel))


def frontend_with(package: Path, folder: Path) -> Path:
    """A new npm project with the package tarball installed (npm resolves its dependencies) and the scenario.

    It runs on the compiler and tsx pinned in clients/typescript: the project installs nothing but the package.
    """
    manifest = {"name": "frontend", "version": "0.0.0", "private": True, "type": "module"}
    (folder / "package.json").write_text(json.dumps(manifest, indent=2))
    run(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", str(package)], folder)
    shutil.copytree(TYPESCRIPT / "scenario", folder / "scenario")
    (folder / "tsconfig.json").write_text(json.dumps(FRONTEND_TSCONFIG, indent=2))
    return folder


def venv_with(wheel: Path, folder: Path) -> Path:
    """A new venv with the wheel installed (its dependencies at the versions clientgen pins); its python."""
    uv = str(ROOT / "scripts" / "uv.sh")
    run([uv, "venv", "--quiet", "--python", "python3", str(folder)], ROOT)
    python = folder / "bin" / "python"
    constraints = ROOT / "clientgen" / "requirements.lock"
    run([uv, "pip", "install", "--quiet", "--python", str(python), "--constraint", str(constraints), str(wheel)], ROOT)
    return python
