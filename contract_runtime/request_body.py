"""The request body as JSON, and the one error for a body that is not JSON at all."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from starlette.exceptions import HTTPException

MALFORMED_BODY = "The request body is not valid JSON."


class MalformedBody(HTTPException):
    """A body that is not JSON text: 400, with why.

    An HTTPException, so FastAPI's request handler lets it through as it is rather than wrapping it
    into an anonymous 400 (it does that to any other error raised while it reads the body).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(status_code=400, detail=MALFORMED_BODY)
        self.reason = reason


class JsonBodyRequest(Request):
    """A request whose json() says how its body is malformed, where it finds out."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = json.loads(body)
            except UnicodeDecodeError:
                raise MalformedBody("The body is not UTF-8 text.") from None
            except json.JSONDecodeError as error:
                # Where and what, never the text itself.
                raise MalformedBody(f"{error.msg} at line {error.lineno}, column {error.colno}.") from None
        return self._json
