"""docs/decisions/README.md lists every decision record once, under its own number, and every link leads to one."""

from __future__ import annotations

import re

from devtools.live_server import ROOT

DECISIONS = ROOT / "docs" / "decisions"
ROW = re.compile(r"^\| \[(\d{4})\]\((\d{4}-[a-z0-9-]+\.md)\) \| (.+?) \|", re.MULTILINE)


def test_every_decision_record_is_listed_once_by_its_number_and_title() -> None:
    rows = ROW.findall((DECISIONS / "README.md").read_text())
    records = sorted(path.name for path in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert [file for _, file, _ in rows] == records
    for number, file, title in rows:
        assert file.startswith(number)
        heading = (DECISIONS / file).read_text().splitlines()[0]
        assert heading == f"# {int(number)}. {title}"


def test_every_decision_named_as_a_later_change_exists() -> None:
    numbers = {path.name[:4] for path in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md")}
    for line in (DECISIONS / "README.md").read_text().splitlines():
        if line.startswith("| ["):
            changed_by = line.rsplit("|", 2)[1]
            assert set(re.findall(r"\b\d{4}\b", changed_by)) <= numbers, line
