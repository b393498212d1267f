"""How values arrive on the wire, read as strictly as the spec says.

Query parameters are text, and pydantic's lax parsing would take "1" or "yes" as true and a date or
"1700000000" as a date-time; strict mode does not help there (it refuses all text for bool and
datetime). Body fields are parsed in strict mode, which still reads "5" as a Unix timestamp. These
types accept exactly the spec's spellings: `true`/`false`, and RFC 3339 date-times with an offset.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator

# RFC 3339 section 5.6 `date-time` (T, Z in either case; any number of fraction digits).
RFC3339_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def rfc3339_date_time(value: object) -> object:
    """Parsed here: text handed on would be refused by strict mode, which takes text only from JSON."""
    if isinstance(value, str):
        if not RFC3339_DATE_TIME.fullmatch(value):
            raise ValueError("Input should be an RFC 3339 date-time with a time zone offset")
        parsed = datetime.fromisoformat(value.upper())
        try:
            parsed.astimezone(UTC)
        except OverflowError:
            # 0001-01-01T00:00:00+01:00 is a valid RFC 3339 date-time before year 1 in UTC.
            raise ValueError("Input should be a date-time between years 1 and 9999 in UTC") from None
        return parsed
    return value


def true_or_false(value: object) -> object:
    if isinstance(value, str):
        if value not in ("true", "false"):
            raise ValueError("Input should be true or false")
        return value == "true"
    return value


Rfc3339DateTime = Annotated[AwareDatetime, BeforeValidator(rfc3339_date_time)]
TrueOrFalse = Annotated[bool, BeforeValidator(true_or_false)]
# What these types add to pydantic's own: reading a value sent as text (contract_runtime/plain_data.py).
TEXT_READERS = (rfc3339_date_time, true_or_false)
