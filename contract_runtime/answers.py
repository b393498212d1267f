"""An operation's success answer, checked and rendered as FastAPI's `response_model` would, in one step.

The generated routes return the `Response` these build, which FastAPI sends as it is (its documented
"Return a Response directly"). FastAPI's own path for a returned model checks it against the response
model, serialises it with pydantic-core and then copies the headers set on a `response: Response`
parameter: about 20 µs per request of its own around the same two pydantic-core calls (decision 0060).
The check is FastAPI's: the value is validated as the response model (an instance of it passes as it
is; anything else is validated), and what fails is FastAPI's ResponseValidationError, a 500. A dict is
the model's fields as plain data: checked field by field as the model would check them, without building
an instance of it, and serialised as the model would be (contract_runtime/plain_data.py, decision 0065).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from fastapi import Response
from fastapi.exceptions import ResponseValidationError
from pydantic import BaseModel, ValidationError

from contract_runtime.plain_data import PlainData

Model = TypeVar("Model", bound=BaseModel)

JSON = "application/json"
# A response model's fields as plain data, which an operation may answer instead of an instance.
PlainFields = dict[str, Any]


class JsonAnswer(Generic[Model]):
    """The answer with a `model` body: `answer(value, headers)` is the Response to send."""

    def __init__(self, model: type[Model], status_code: int) -> None:
        self.validator = model.__pydantic_validator__
        self.serializer = model.__pydantic_serializer__
        self.plain = PlainData(model)
        self.status_code = status_code

    def __call__(self, content: Any, headers: Mapping[str, str] | None = None) -> Response:
        checks = self.plain if type(content) is dict else self
        validator, serializer = checks.validator, checks.serializer
        try:
            value = validator.validate_python(content, from_attributes=True)
        except ValidationError as invalid:
            errors = [{**error, "loc": ("response", *error["loc"])} for error in invalid.errors(include_url=False)]
            raise ResponseValidationError(errors, body=content) from None
        return Response(serializer.to_json(value, by_alias=True), self.status_code, headers, JSON)


class EmptyAnswer:
    """The answer without a body (204 and the like): `answer(headers)` is the Response to send."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code

    def __call__(self, headers: Mapping[str, str] | None = None) -> Response:
        return Response(status_code=self.status_code, headers=headers)
