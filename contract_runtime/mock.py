"""What a mock generated from the contract needs at run time: each operation's documented answers with the
spec's examples, the request's `Prefer` header, and the choice it makes among them (Prism's conventions).

`Prefer: code=NNN` picks the answer of a documented status, `Prefer: example=NAME` one of its named
examples (searched in the success answer first, then in the others by status); without either, the
success answer and its first example. Several preferences go in one header, comma-separated
(`Prefer: code=422, example=idempotencyKeyReused`), as RFC 7240 writes them; others are ignored.
A preference the operation's documented answers cannot satisfy is `UnsatisfiablePreference`, naming
what it documents; the chosen answer, when it is not the success, is `ExampleAnswer`: the app renders both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

Model = TypeVar("Model", bound=BaseModel)
PREFER: ContextVar[str] = ContextVar("contract_runtime.mock.prefer", default="")
"""The request's Prefer header lines, comma-joined; set by PreferHeader for the request it is serving."""


class PreferHeader:
    """ASGI middleware: the request's Prefer header in PREFER while the request is served."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lines = [value.decode("latin-1") for name, value in scope["headers"] if name == b"prefer"]
        token = PREFER.set(", ".join(lines))
        try:
            await self.app(scope, receive, send)
        finally:
            PREFER.reset(token)


def preferences(header: str) -> dict[str, str]:
    """The preferences a Prefer header states, by lower-cased name; the first of a name counts (RFC 7240 section 2).

    Lenient where RFC 7240 is strict: `;` separates preferences as `,` does, so `code=404;example=notFound`
    means what Prism users write it for.
    """
    stated: dict[str, str] = {}
    for part in header.replace(";", ",").split(","):
        name, _, value = part.partition("=")
        name = name.strip().lower()
        if name:
            stated.setdefault(name, value.strip().strip('"'))
    return stated


@dataclass(frozen=True)
class Documented:
    """One documented answer: its body's media type (None without a body), its examples by name in the spec's
    order, and the example value of each header the answer always carries."""

    media_type: str | None = None
    examples: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """The answer chosen for a request: a status, an example (its name and value) and headers."""

    status: int
    media_type: str | None
    example: str | None
    body: Any
    headers: Mapping[str, str]

    def body_as(self, model: type[Model]) -> Model:
        """The example as the operation's response model, read as JSON, as the wire would carry it."""
        return model.model_validate_json(json.dumps(self.body))


class ExampleAnswer(Exception):
    """The answer Prefer asked for is not the operation's success: the app sends it as it is documented."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(f"documented answer {answer.status}")
        self.answer = answer


class UnsatisfiablePreference(Exception):
    """Prefer names a status or an example the operation does not document; `message` says what it documents."""

    def __init__(self, operation_id: str, message: str) -> None:
        super().__init__(message)
        self.operation_id = operation_id
        self.message = message


@dataclass(frozen=True)
class MockedOperation:
    """An operation's documented answers by status, and which of them is its success."""

    operation_id: str
    success: int
    responses: Mapping[int, Documented]

    def answer(self) -> Answer:
        """The success answer this request prefers; ExampleAnswer for another, UnsatisfiablePreference for none."""
        chosen = self.choose(preferences(PREFER.get()))
        if chosen.status != self.success:
            raise ExampleAnswer(chosen)
        return chosen

    def choose(self, preferred: Mapping[str, str]) -> Answer:
        code, example = preferred.get("code"), preferred.get("example")
        if code is not None:
            status = int(code) if code.isdigit() else -1
            if status not in self.responses:
                documented = ", ".join(str(status) for status in self.responses)
                message = f"code={code} is not documented for {self.operation_id}; documented: {documented}"
                raise UnsatisfiablePreference(self.operation_id, message)
            candidates = [status]
        else:
            candidates = [self.success, *(status for status in self.responses if status != self.success)]
        if example is None:
            return self.answer_of(candidates[0], None)
        for status in candidates:
            if example in self.responses[status].examples:
                return self.answer_of(status, example)
        raise UnsatisfiablePreference(self.operation_id, self.unknown_example(example, candidates))

    def answer_of(self, status: int, example: str | None) -> Answer:
        documented = self.responses[status]
        name = example if example is not None else next(iter(documented.examples), None)
        body = documented.examples[name] if name is not None else None
        return Answer(status, documented.media_type, name, body, documented.headers)

    def unknown_example(self, example: str, statuses: list[int]) -> str:
        named = [
            f"{status}: {', '.join(self.responses[status].examples)}"
            for status in statuses
            if self.responses[status].examples
        ]
        choices = "; ".join(named)
        where = f"its {statuses[0]} answer" if len(statuses) == 1 else "its answers"
        return f"example={example} is not an example of {where} ({self.operation_id}); examples: {choices or 'none'}"
