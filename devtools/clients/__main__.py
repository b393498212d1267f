"""`make clients`: build the npm package and the Python wheel into build/clients/ (npm/, pypi/).

Both are versioned with the contract's info.version and carry its CHANGELOG entry. `--release-tag vX.Y.Z`
first refuses a tag that is not the contract's version, or a version the changelog still calls unreleased
(the publish workflow passes the tag it runs for).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from devtools.clients.npm_package import build_npm_package
from devtools.clients.python_wheel import build_python_wheel
from devtools.clients.release import ROOT, contract_release, tag_mismatch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.clients", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "clients", help="default: build/clients")
    parser.add_argument("--release-tag", help="the vX.Y.Z tag being published; refused unless it is this release")
    args = parser.parse_args(argv)
    release = contract_release()
    if args.release_tag is not None and (refusal := tag_mismatch(release, args.release_tag)) is not None:
        print(f"clients: not publishing: {refusal}", file=sys.stderr)
        return 1
    npm, pypi = args.out / "npm", args.out / "pypi"
    for folder in (npm, pypi):  # only this version's artifacts, so a publish step can take the whole folder
        shutil.rmtree(folder, ignore_errors=True)
    for artifact in (build_npm_package(release, npm), build_python_wheel(release, pypi)):
        print(artifact)
    return 0


if __name__ == "__main__":
    sys.exit(main())
