"""The contract check lets a removal through only after a deprecation and its sunset (decision 0059).

Fixture pairs: a base with an operation, a query parameter or a request body property deprecated (or not),
and a revision without it. oasdiff reads "today" from the clock, so the sunset dates are relative to it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from devtools import contract_check
from tests.support.deprecated_spec import (
    COMPLETE,
    TASKS,
    Dates,
    Spec,
    contract,
    deprecate_operation,
    deprecate_parameter,
    deprecate_property,
    dump,
    parameter,
)
from tests.support.node import npm_ci

TODAY = date.today()
PAST, FUTURE = TODAY - timedelta(days=1), TODAY + timedelta(days=30)


@pytest.fixture(scope="module", autouse=True)
def oasdiff_installed() -> None:
    npm_ci("tools/node")


def remove_operation(document: Spec) -> None:
    del document["paths"][COMPLETE]["patch"]


def remove_parameter(document: Spec) -> None:
    document["paths"][TASKS]["get"]["parameters"].remove(parameter(document, TASKS, "get", "overdue"))


def remove_property(document: Spec) -> None:
    del document["components"]["schemas"]["TaskCreate"]["properties"]["priority"]


KINDS: dict[str, tuple[Callable[[Spec, Dates], None], Callable[[Spec], None], str]] = {
    "operation": (deprecate_operation, remove_operation, "api-removed"),
    "query parameter": (deprecate_parameter, remove_parameter, "request-parameter-removed"),
    "request body property": (deprecate_property, remove_property, "request-property-removed"),
}


def check(tmp_path: Path, base: Spec, change: Callable[[Spec], None]) -> int:
    """contract-check's verdict on `base` against `base` changed by `change`."""
    base_file, revision_file = tmp_path / "base.yaml", tmp_path / "revision.yaml"
    base_file.write_text(dump(base))
    change(base)
    revision_file.write_text(dump(base))
    return contract_check.main(["--base", str(base_file), "--revision", str(revision_file)])


def deprecated(kind: str, sunset: date) -> Spec:
    document = contract()
    KINDS[kind][0](document, Dates(sunset - timedelta(days=180), sunset, "https://docs.example/deprecations"))
    return document


@pytest.mark.parametrize("kind", KINDS)
def test_removing_what_was_never_deprecated_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    _, remove, rule = KINDS[kind]
    status = check(tmp_path, contract(), remove)
    output = capsys.readouterr().out
    assert status == 1, output
    expected = f"[{rule}-without-deprecation]" if kind == "operation" else f"[{rule}]"
    assert expected in output, output


@pytest.mark.parametrize("kind", KINDS)
def test_removing_a_deprecated_thing_before_its_sunset_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    _, remove, rule = KINDS[kind]
    status = check(tmp_path, deprecated(kind, FUTURE), remove)
    output = capsys.readouterr().out
    assert status == 1, output
    assert f"[{rule}-before-sunset]" in output, output
    assert FUTURE.isoformat() in output, output


@pytest.mark.parametrize("sunset", [PAST, TODAY], ids=["after its sunset", "on its sunset day"])
@pytest.mark.parametrize("kind", KINDS)
def test_removing_a_deprecated_thing_from_its_sunset_on_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, sunset: date
) -> None:
    status = check(tmp_path, deprecated(kind, sunset), KINDS[kind][1])
    output = capsys.readouterr().out
    assert status == 0, output
    assert "no breaking change" in output, output


@pytest.mark.parametrize("kind", KINDS)
def test_deprecating_is_not_a_breaking_change(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    status = check(tmp_path, contract(), lambda document: KINDS[kind][0](document, Dates(TODAY, FUTURE, "https://d")))
    output = capsys.readouterr().out
    assert status == 0, output
