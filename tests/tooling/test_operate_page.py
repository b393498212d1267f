"""docs/operate.md names every setting .env.example has, and every exit code the `tasks-api` command has."""

from __future__ import annotations

import re

from devtools.live_server import ROOT
from impl.cli.exit_codes import MEANINGS

PAGE = ROOT / "docs" / "operate.md"


def section(title: str) -> str:
    text = PAGE.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_every_setting_in_env_example_is_in_the_settings_table() -> None:
    settings = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    table = section("Settings")
    assert len(settings) > 30
    assert {name for name in settings if f"`{name}`" not in table} == set()


def test_every_exit_code_is_listed_once() -> None:
    listed = re.findall(r"(?:^|[;:]\s+)(\d) (?=[a-zP])", section("Exit codes"), re.MULTILINE)
    assert sorted(int(code) for code in listed) == sorted(MEANINGS)
