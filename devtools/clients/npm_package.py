"""The npm package `tasks-api-client`: clients/typescript/src compiled against types generated from the spec."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from devtools.clients.commands import run
from devtools.clients.release import ROOT, ContractRelease

SOURCE = ROOT / "clients" / "typescript"
TOOLS = SOURCE / "node_modules" / ".bin"
NAME = "tasks-api-client"


def manifest(release: ContractRelease) -> dict[str, Any]:
    """The published package.json: the source's runtime dependencies (pinned there), nothing of its build."""
    source = json.loads((SOURCE / "package.json").read_text())
    return {
        "name": NAME,
        "version": release.version,
        "description": (
            f"A typed client for the Tasks API, contract {release.version}: types from openapi-typescript, calls"
            " with openapi-fetch, problem types and Idempotency-Key / If-Match helpers."
        ),
        "license": source["license"],
        "type": "module",
        "exports": {".": {"types": "./dist/index.d.ts", "default": "./dist/index.js"}},
        "types": "./dist/index.d.ts",
        "files": ["dist", "CHANGELOG.md"],
        "sideEffects": False,
        "dependencies": source["dependencies"],
    }


def build_npm_package(release: ContractRelease, out: Path) -> Path:
    """Generate the types, compile src/ to dist/, pack it with its README and changelog; the tarball's path."""
    run([str(ROOT / "scripts" / "npm-ci.sh"), "clients/typescript"], ROOT)
    run([str(TOOLS / "openapi-typescript"), "../../openapi/tasks.yaml", "--output", "src/schema.gen.ts"], SOURCE)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tasks-api-client-npm-") as scratch:
        package = Path(scratch)
        run([str(TOOLS / "tsc"), "--project", "tsconfig.build.json", "--outDir", str(package / "dist")], SOURCE)
        shutil.copy(SOURCE / "README.md", package / "README.md")
        (package / "CHANGELOG.md").write_text(release.notes())
        (package / "package.json").write_text(json.dumps(manifest(release), indent=2) + "\n")
        packed = json.loads(run(["npm", "pack", "--json", "--pack-destination", str(out.resolve())], package))
    return out / str(packed[0]["filename"])
