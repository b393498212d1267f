"""Deprecation on the wire: what a deprecated operation, parameter or body property answers with.

`Deprecation` (RFC 9745) says since when, `Sunset` (RFC 8594) from when it may be gone, `Link` with
`rel="deprecation"` where to read about it. The spec gives each deprecated thing `x-deprecated-at`,
`x-sunset` (oasdiff's extension, so the contract check reads the same date) and a documentation URL
(decision 0059); the generated routes hand them here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract_runtime.routing import ContractRoute

USED = "contract_runtime.deprecation.used"
"""The request scope's key for the deprecated parameters and properties the request used."""


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Deprecation:
    """One deprecated thing: deprecated since the start of `deprecated_at`, may be gone from the start of
    `sunset` (UTC; oasdiff lets it be removed on that day), documented at `link`."""

    deprecated_at: date
    sunset: date
    link: str


def deprecation_headers(used: Iterable[Deprecation]) -> list[tuple[bytes, bytes]]:
    """The three header fields for everything the request used; empty when it used nothing deprecated.

    Each field holds one date: the earliest deprecation and the earliest sunset, the first thing the
    request relies on that goes away. Every distinct documentation link is listed.
    """
    used = list(used)
    if not used:
        return []
    deprecated_at = min(item.deprecated_at for item in used)
    sunset = min(item.sunset for item in used)
    links = ", ".join(f'<{link}>; rel="deprecation"; type="text/html"' for link in dict.fromkeys(i.link for i in used))
    return [
        (b"deprecation", f"@{int(midnight(deprecated_at).timestamp())}".encode("latin-1")),
        (b"sunset", format_datetime(midnight(sunset), usegmt=True).encode("latin-1")),
        (b"link", links.encode("latin-1")),
    ]


def wire_names(model: BaseModel) -> set[str]:
    """The names, as the request spelled them, of the fields the request gave."""
    fields = type(model).model_fields
    return {fields[name].alias or name for name in model.model_fields_set}


@dataclass(frozen=True)
class DeprecatedInputs:
    """An operation's deprecated query and header parameters and request body properties, by their names on
    the wire; the route notes those the request used."""

    query: Mapping[str, Deprecation] = field(default_factory=dict)
    headers: Mapping[str, Deprecation] = field(default_factory=dict)
    body: Mapping[str, Deprecation] = field(default_factory=dict)

    def note(self, request: Request, body: BaseModel | None = None) -> None:
        used = [item for name, item in self.query.items() if name in request.query_params]
        used += [item for name, item in self.headers.items() if name in request.headers]
        if body is not None and self.body:
            given = wire_names(body)
            used += [item for name, item in self.body.items() if name in given]
        if used:
            request.scope.setdefault(USED, []).extend(used)


def announcing(app: ASGIApp, operation: Deprecation | None) -> ASGIApp:
    """`app` (a route's), adding the headers to every answer it gives, its problems included: the
    operation's own deprecation, and whatever deprecated input the route noted before it answered."""

    async def announced(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_announcing(message: Message) -> None:
            if message["type"] == "http.response.start":
                used: list[Deprecation] = [operation] if operation is not None else []
                used += scope.get(USED, [])
                if used:
                    message = {**message, "headers": [*message.get("headers", ()), *deprecation_headers(used)]}
            await send(message)

        await app(scope, receive, send_announcing)

    return announced


def deprecated_route(operation: Deprecation | None) -> type[ContractRoute]:
    """A ContractRoute whose answers announce the operation's deprecation (when it is deprecated) and the
    deprecated inputs the request used."""

    class DeprecatedRoute(ContractRoute):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.app = announcing(self.app, operation)

    return DeprecatedRoute
