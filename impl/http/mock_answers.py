"""The mock's answers other than an operation's success, sent as the service would send them (decision 0058).

A problem example is rendered by the service's own problem rendering: its `type`, `title`, `detail` and
extension members are the example's, its `instance` and `request_id` this request's, as the service's are.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic_core import to_json

from contract_runtime.mock import ExampleAnswer, UnsatisfiablePreference
from impl.http.error_handlers import problem_response
from impl.http.problems import PROBLEM_JSON

# The members problem_response() sets itself; the rest of an example problem are its extensions.
RENDERED_MEMBERS = ("type", "title", "status", "detail", "instance", "request_id")


async def on_example_answer(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ExampleAnswer)
    answer = exc.answer
    headers = dict(answer.headers)
    if answer.media_type is None:
        return Response(status_code=answer.status, headers=headers)
    if answer.media_type == PROBLEM_JSON and isinstance(answer.body, dict):
        example: dict[str, Any] = answer.body
        extensions = {name: value for name, value in example.items() if name not in RENDERED_MEMBERS}
        return problem_response(
            request,
            answer.status,
            str(example.get("detail", "")),
            headers,
            problem_type=str(example.get("type", "about:blank")),
            title=example.get("title"),
            **extensions,
        )
    return Response(to_json(answer.body), status_code=answer.status, headers=headers, media_type=answer.media_type)


async def on_unsatisfiable_preference(request: Request, exc: Exception) -> Response:
    """422, naming the header and what the operation documents: the mock cannot answer what it was asked."""
    assert isinstance(exc, UnsatisfiablePreference)
    detail = f"The Prefer header asks for an answer {exc.operation_id} does not document."
    return problem_response(request, 422, detail, errors=[{"parameter": "Prefer", "message": exc.message}])


def install(app: FastAPI) -> None:
    app.add_exception_handler(ExampleAnswer, on_example_answer)
    app.add_exception_handler(UnsatisfiablePreference, on_unsatisfiable_preference)
