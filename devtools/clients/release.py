"""The contract's release as the client packages carry it: info.version and that version's CHANGELOG entry."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "tasks.yaml"
CHANGELOG = ROOT / "openapi" / "CHANGELOG.md"
# Links into the repository (`../docs/...`) lead nowhere from a package page; their text stays.
RELATIVE_LINK = re.compile(r"\[([^\]]+)\]\((?![a-z][a-z0-9+.-]*:)[^)]*\)")


@dataclass(frozen=True)
class ContractRelease:
    version: str
    heading: str  # the entry's heading as the changelog spells it, e.g. "1.4.0 (unreleased)"
    changes: str  # the entry's text under the heading

    def notes(self, heading_level: int = 1) -> str:
        """The package's changelog: the contract version it was built from and what changed in it."""
        title = "#" * heading_level
        return (
            f"{title} Changes in {self.version}\n\n"
            f"Built from the Tasks API contract (openapi/tasks.yaml) at info.version {self.version}; "
            "the entry for that version in the contract's changelog:\n\n"
            f"{title}# {self.heading}\n\n{self.changes}\n"
        )


def changelog_entry(changelog: str, version: str) -> tuple[str, str]:
    """The heading and text of the `## VERSION` entry; the heading may go on after the version, as in `(unreleased)`."""
    heading = re.compile(rf"^## ({re.escape(version)}(?:\s.*)?)$", re.MULTILINE)
    found = heading.search(changelog)
    if found is None:
        raise SystemExit(f"clients: openapi/CHANGELOG.md has no entry for {version} ('## {version}'); write it first")
    following = re.compile(r"^## ", re.MULTILINE).search(changelog, found.end())
    text = changelog[found.end() : following.start() if following else len(changelog)].strip()
    if not text:
        raise SystemExit(f"clients: the CHANGELOG entry for {version} is empty")
    return found.group(1).strip(), RELATIVE_LINK.sub(r"\1", text)


def contract_release(spec: Path = SPEC, changelog: Path = CHANGELOG) -> ContractRelease:
    version = str(yaml.safe_load(spec.read_text())["info"]["version"])
    heading, changes = changelog_entry(changelog.read_text(), version)
    return ContractRelease(version, heading, changes)


def tag_mismatch(release: ContractRelease, tag: str) -> str | None:
    """Why a release tag may not publish these packages, or None when it may."""
    if tag != f"v{release.version}":
        return f"tag {tag} is not v{release.version}, the contract's info.version"
    if "unreleased" in release.heading.lower():
        return f"openapi/CHANGELOG.md still calls {release.version} unreleased ('## {release.heading}')"
    return None
