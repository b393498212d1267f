"""The Python wheel `tasks-api-client`: the project openapi-python-client generates from the spec, built."""

from __future__ import annotations

import tempfile
from pathlib import Path

from devtools.clients.commands import run
from devtools.clients.release import ROOT, ContractRelease


def build_python_wheel(release: ContractRelease, out: Path) -> Path:
    """Generate the project (its version is info.version), add the changelog to its README, build; the wheel's path."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tasks-api-client-python-") as scratch:
        project = Path(scratch, "tasks-api-client")
        python = run([str(ROOT / "scripts" / "python-client.sh"), str(project)], ROOT).strip().splitlines()[-1]
        readme = project / "README.md"  # the wheel's long description, shown on its package page
        readme.write_text(readme.read_text().rstrip() + "\n\n" + release.notes(heading_level=2))
        # Without isolation: the build backend is the one pinned in clientgen/requirements.lock.
        build = [str(ROOT / "scripts" / "uv.sh"), "build", "--wheel", "--no-build-isolation", "--force-pep517"]
        run([*build, "--no-create-gitignore", "--python", python, "--out-dir", str(out.resolve())], project)
    [wheel] = out.glob(f"tasks_api_client-{release.version}-*.whl")
    return wheel
