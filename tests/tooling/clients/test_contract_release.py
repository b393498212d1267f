"""What the client packages carry of the contract's release (its CHANGELOG entry), and which tag may publish."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devtools.clients.release import ContractRelease, changelog_entry, tag_mismatch
from devtools.live_server import ROOT

CHANGELOG = """# Contract changelog

Intro.

## 1.10.0 (unreleased)

- Newer, see [decision 0050](../docs/decisions/0050-x.md) and [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457).

## 1.1.0 (2026-11-02)

- Older.

## 1.1

- A heading without its patch number.
"""


def test_the_entry_is_the_text_under_its_heading_up_to_the_next() -> None:
    assert changelog_entry(CHANGELOG, "1.1.0") == ("1.1.0 (2026-11-02)", "- Older.")


def test_a_heading_names_the_version_exactly() -> None:
    assert changelog_entry(CHANGELOG, "1.1") == ("1.1", "- A heading without its patch number.")
    with pytest.raises(SystemExit, match=r"no entry for 1\.1\.1"):
        changelog_entry(CHANGELOG, "1.1.1")


def test_links_into_the_repository_keep_only_their_text() -> None:
    _, changes = changelog_entry(CHANGELOG, "1.10.0")
    assert changes == "- Newer, see decision 0050 and [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457)."


def test_a_release_tag_must_be_the_contracts_version_marked_released() -> None:
    released = ContractRelease("1.4.0", "1.4.0 (2026-12-07)", "- Changes.")
    assert tag_mismatch(released, "v1.4.0") is None
    assert tag_mismatch(released, "v1.4.1") == "tag v1.4.1 is not v1.4.0, the contract's info.version"
    assert tag_mismatch(released, "1.4.0") == "tag 1.4.0 is not v1.4.0, the contract's info.version"
    unreleased = ContractRelease("1.4.0", "1.4.0 (unreleased)", "- Changes.")
    assert "still calls 1.4.0 unreleased" in str(tag_mismatch(unreleased, "v1.4.0"))


def test_a_refused_tag_builds_nothing(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "devtools.clients", "--out", str(tmp_path), "--release-tag", "v0.0.0-not-this"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1
    assert "not publishing: tag v0.0.0-not-this is not v" in result.stderr
    assert list(tmp_path.iterdir()) == []
