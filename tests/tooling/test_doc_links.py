"""Every relative link in README.md and docs/ leads to a file or folder of the checkout, and to a heading there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devtools.live_server import ROOT

PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)


def prose(page: Path) -> str:
    """The page without its fenced code blocks, where brackets are code, not links."""
    return FENCE.sub("", page.read_text())


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces as hyphens."""
    seen: dict[str, int] = {}
    for heading in HEADING.findall(prose(page)):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        if count:
            seen[f"{slug}-{count}"] = 1
    return set(seen)


def relative_links(page: Path) -> list[str]:
    return [target for target in LINK.findall(prose(page)) if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_leads_somewhere(page: Path) -> None:
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{target}: no such file"
        assert linked.is_relative_to(ROOT), f"{target}: outside the checkout"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{target}: no such heading in {linked.relative_to(ROOT)}"


def test_the_pages_are_found_and_their_links_read() -> None:
    assert ROOT / "docs" / "decisions" / "README.md" in PAGES
    readme_links = relative_links(ROOT / "README.md")
    assert "docs/workflow.md" in readme_links
    assert "docs/develop.md#try-it" in readme_links


def test_anchors_are_the_ones_github_makes(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# The `tasks-api` command\n\n## Neon, and PostgreSQL\n\n## Neon, and PostgreSQL\n")
    assert anchors(page) == {"the-tasks-api-command", "neon-and-postgresql", "neon-and-postgresql-1"}
