"""The Deprecation, Sunset and Link header fields for what a request used (decision 0059)."""

from __future__ import annotations

from datetime import date

from contract_runtime.deprecation import Deprecation, deprecation_headers

TOGGLE = Deprecation(date(2025, 12, 31), date(2027, 6, 30), "https://docs.example/deprecations#toggle")
OVERDUE = Deprecation(date(2026, 9, 1), date(2027, 3, 1), "https://docs.example/deprecations#overdue")


def fields(*used: Deprecation) -> dict[str, str]:
    return {name.decode(): value.decode() for name, value in deprecation_headers(used)}


def test_deprecation_is_a_structured_field_date_at_the_start_of_the_day() -> None:
    assert fields(TOGGLE)["deprecation"] == "@1767139200"  # 2025-12-31T00:00:00Z


def test_sunset_is_an_http_date_at_the_start_of_the_sunset_day() -> None:
    assert fields(TOGGLE)["sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"


def test_link_points_to_the_documentation_as_rel_deprecation() -> None:
    assert fields(TOGGLE)["link"] == '<https://docs.example/deprecations#toggle>; rel="deprecation"; type="text/html"'


def test_several_deprecations_give_the_earliest_dates_and_every_link_once() -> None:
    assert fields(TOGGLE, OVERDUE, OVERDUE) == {
        "deprecation": "@1767139200",
        "sunset": "Mon, 01 Mar 2027 00:00:00 GMT",
        "link": '<https://docs.example/deprecations#toggle>; rel="deprecation"; type="text/html", '
        '<https://docs.example/deprecations#overdue>; rel="deprecation"; type="text/html"',
    }


def test_nothing_deprecated_gives_no_header() -> None:
    assert deprecation_headers([]) == []
