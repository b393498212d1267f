"""docs/decisions/README.md lists every decision record once, by its number, with the status the record states."""

from __future__ import annotations

import re

import pytest

from devtools.live_server import ROOT

DECISIONS = ROOT / "docs" / "decisions"
ROW = re.compile(r"^\| \[(\d{4})\]\((\d{4}-[a-z0-9-]+\.md)\) \| (.+?) \| (.*?) \|$", re.MULTILINE)
# "accepted", or one or more "<change> by NNNN[, NNNN] [(what)]" joined by "; ".
CHANGE = re.compile(r"(amended|superseded in part|superseded) by (\d{4}(?:, \d{4})*)(?: \([^()]+\))?")
# How a record says a later decision changed it: "Amended by 0020", "Superseded in part by [decision 0013](...)".
STATED_CHANGE = re.compile(r"\b(amended|superseded in part|superseded) by \[?(?:decision )?(\d{4})\b", re.IGNORECASE)


def rows() -> list[tuple[str, str, str, str]]:
    return ROW.findall((DECISIONS / "README.md").read_text())


def changes_named(status: str) -> set[tuple[str, str]]:
    """The (change, later decision) pairs a status names; empty for "accepted"."""
    if status == "accepted":
        return set()
    named: set[tuple[str, str]] = set()
    for part in status.split("; "):
        match = CHANGE.fullmatch(part)
        assert match, f"status not understood: {status!r}"
        named |= {(match[1], number) for number in match[2].split(", ")}
    return named


def test_every_decision_record_is_listed_once_by_its_number_and_title() -> None:
    listed = rows()
    records = sorted(path.name for path in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert [file for _, file, _, _ in listed] == records
    for number, file, title, _ in listed:
        assert file.startswith(number)
        heading = (DECISIONS / file).read_text().splitlines()[0]
        assert heading == f"# {int(number)}. {title}"


def test_every_status_names_later_decisions_that_exist() -> None:
    numbers = {path.name[:4] for path in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md")}
    for number, _, _, status in rows():
        for _, later in changes_named(status):
            assert later in numbers, f"{number}: {status}"
            assert later > number, f"{number} cannot be changed by an earlier decision: {status}"


def test_every_status_is_what_its_record_says() -> None:
    for number, file, _, status in rows():
        text = (DECISIONS / file).read_text()
        # A record superseded as a whole says so first; a part superseded says so where that part is.
        whole = text.split("\n\n")[1].lower().lstrip("*").startswith("superseded by")
        stated = {(change.lower().removesuffix(" in part"), later) for change, later in STATED_CHANGE.findall(text)}
        named = changes_named(status)
        assert {(change.removesuffix(" in part"), later) for change, later in named} == stated, (
            f"{number}: index says {status!r}, the record says {sorted(stated)}"
        )
        assert whole == any(change == "superseded" for change, _ in named), f"{number}: {status!r}"


def test_a_status_names_each_later_decision() -> None:
    assert changes_named("amended by 0032, 0046") == {("amended", "0032"), ("amended", "0046")}
    assert changes_named("superseded in part by 0013 (how statements run); amended by 0040") == {
        ("superseded in part", "0013"),
        ("amended", "0040"),
    }


@pytest.mark.parametrize("status", ["", "changed by 0013", "amended by 13", "superseded", "Accepted"])
def test_a_status_not_understood_is_refused(status: str) -> None:
    with pytest.raises(AssertionError, match="status not understood"):
        changes_named(status)
