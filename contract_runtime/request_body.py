"""The request body as JSON text (RFC 8259), and the one error for a body that is not JSON at all."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from fastapi import Request
from starlette.exceptions import HTTPException

MALFORMED_BODY = "The request body is not valid JSON."
BYTE_ORDER_MARK = "\ufeff"


class MalformedBody(HTTPException):
    """A body that is not JSON text: 400, with why.

    An HTTPException, so FastAPI's request handler lets it through as it is rather than wrapping it
    into an anonymous 400 (it does that to any other error raised while it reads the body).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(status_code=400, detail=MALFORMED_BODY)
        self.reason = reason


def missing_body_error() -> dict[str, Any]:
    """FastAPI's error for a required body that is empty (fastapi._compat's get_missing_field_error)."""
    return {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}


def not_a_json_number(constant: str) -> NoReturn:
    raise MalformedBody(f"{constant} is not a JSON number.")


def parse_json(body: bytes) -> Any:
    """The body as JSON text: UTF-8 without a byte order mark (RFC 8259 section 8.1), else MalformedBody.

    Whatever the body holds, the cost is bounded by its size (64 KiB, decision 0024): nesting stops at
    Python's recursion limit, and integers at int()'s 4300 digits, each a MalformedBody.
    """
    try:
        # Decoded first: json.loads() of bytes would detect UTF-16 and UTF-32 and read them too.
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("The body is not UTF-8 text.") from None
    if text.startswith(BYTE_ORDER_MARK):
        raise MalformedBody("The body starts with a byte order mark; JSON text is UTF-8 without one.")
    try:
        return json.loads(text, parse_constant=not_a_json_number)
    except json.JSONDecodeError as error:
        # Where and what, never the text itself.
        raise MalformedBody(f"{error.msg} at line {error.lineno}, column {error.colno}.") from None
    except RecursionError:
        raise MalformedBody("The body is nested too deeply.") from None
    except ValueError:
        raise MalformedBody("A number in the body has more digits than the service reads.") from None


class JsonBodyRequest(Request):
    """A request whose json() says how its body is malformed, where it finds out."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json
