"""The strict parameter and date-time types: exactly the spec's spellings, nothing pydantic would coerce."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from contract_runtime.wire_types import Rfc3339DateTime, TrueOrFalse

DATE_TIME = TypeAdapter(Rfc3339DateTime)
TRUE_OR_FALSE = TypeAdapter(TrueOrFalse)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-31T17:00:00Z", datetime(2026, 12, 31, 17, tzinfo=UTC)),
        ("2026-12-31t17:00:00z", datetime(2026, 12, 31, 17, tzinfo=UTC)),
        ("2026-12-31T17:00:00.123456789+02:00", datetime(2026, 12, 31, 17, 0, 0, 123456, timezone(timedelta(hours=2)))),
    ],
)
def test_an_rfc_3339_date_time_with_an_offset_is_read(text: str, expected: datetime) -> None:
    assert DATE_TIME.validate_python(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2026-12-31", "2026-12-31T17:00:00", "1700000000", "2026-12-31 17:00:00Z", "2026-12-31T17:00Z", "tomorrow"],
)
def test_anything_else_a_lax_parser_would_take_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="RFC 3339"):
        DATE_TIME.validate_python(text)


def test_a_date_time_before_year_1_in_utc_is_refused_not_an_overflow() -> None:
    with pytest.raises(ValidationError, match="between years 1 and 9999"):
        DATE_TIME.validate_python("0001-01-01T00:00:00+01:00")


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("false", False)])
def test_true_and_false_are_read(text: str, expected: bool) -> None:
    assert TRUE_OR_FALSE.validate_python(text) is expected


@pytest.mark.parametrize("text", ["1", "0", "yes", "True", "FALSE", "on", ""])
def test_other_spellings_of_a_boolean_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="true or false"):
        TRUE_OR_FALSE.validate_python(text)
