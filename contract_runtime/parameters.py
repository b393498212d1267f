"""An operation's path, query and header parameters validated as one model in one pydantic-core call.

A FastAPI dependency. FastAPI's own declarations (`Path()` per path parameter, `Query()` and `Header()`
parameter models) inspect each field's annotation again on every request: 71 µs for listTasks' twelve
query fields (decision 0039), about 45 µs for getTask's two path parameters and 25 µs for its header
model (decision 0060), against a few µs for one `model_validate`. The generated `<Operation>Parameters`
model has a field per location the operation reads, `path`, `query` and `headers`, each its own model.

The values are taken as FastAPI takes them: the route's path parameters as Starlette matched them; a
query key the model lists gets every occurrence, any other key its last; a header gets its first
occurrence (or every one, for a list), found by its name in any case; query keys and headers the models
do not declare are passed on for their models to ignore or refuse. An invalid request is FastAPI's
own RequestValidationError with FastAPI's error locations, `("path" | "query" | "header", <name>, ...)`,
in FastAPI's order: path, then query, then header, then the body's errors: FastAPI validates a body
only after the dependencies, so for a request whose parameters fail, the body is validated here, with
the route's own body field, and every invalid input is listed at once as FastAPI lists it.
"""

# No `from __future__ import annotations`: FastAPI reads __call__'s annotations, and an instance has no
# module globals to resolve them in.
from typing import Any, Generic, TypeVar, get_args, get_origin

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from contract_runtime.direct_calls import read_body, strict_content_type_of, validated

Model = TypeVar("Model", bound=BaseModel)

# The Parameters model's field for each location, and the location FastAPI names in an error.
LOCATIONS = {"path": "path", "query": "query", "headers": "header"}


def is_list(annotation: Any) -> bool:
    """Whether a field's type is a list (optional or not): its key may repeat in the query string."""
    if get_origin(annotation) is list:
        return True
    return any(is_list(argument) for argument in get_args(annotation))


def wire_fields(model: type[BaseModel]) -> list[tuple[str, bool]]:
    """Each field's name on the wire (its alias, else its name), and whether it takes every occurrence."""
    return [(field.alias or name, is_list(field.annotation)) for name, field in model.model_fields.items()]


def location_model(model: type[BaseModel], location: str) -> type[BaseModel] | None:
    field = model.model_fields.get(location)
    if field is None:
        return None
    inner = field.annotation
    if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
        raise TypeError(f"{model.__name__}.{location} must be a model of the {location} parameters")
    return inner


class RequestParameters(Generic[Model]):
    """FastAPI dependency: the request's parameters as one `model`, or a RequestValidationError."""

    def __init__(self, model: type[Model]) -> None:
        unknown = set(model.model_fields) - set(LOCATIONS)
        if unknown:
            raise TypeError(f"{model.__name__} has fields for no parameter location: {sorted(unknown)}")
        self.model = model
        self.reads_path = "path" in model.model_fields
        query = location_model(model, "query")
        headers = location_model(model, "headers")
        self.query_list_keys = None if query is None else frozenset(n for n, many in wire_fields(query) if many)
        self.header_names = None if headers is None else [(n.lower(), n, many) for n, many in wire_fields(headers)]

    async def __call__(self, request: Request) -> Model:
        values: dict[str, Any] = {}
        if self.reads_path:
            values["path"] = request.path_params
        if self.query_list_keys is not None:
            query, lists = request.query_params, self.query_list_keys
            values["query"] = {key: query.getlist(key) if key in lists else query[key] for key in query}
        if self.header_names is not None:
            headers = request.headers
            values["headers"] = {
                name: headers.getlist(key) if many else headers[key]
                for key, name, many in self.header_names
                if key in headers
            }
        try:
            return self.model.model_validate(values)
        except ValidationError as invalid:
            errors = [
                {**error, "loc": (LOCATIONS[str(error["loc"][0])], *error["loc"][1:])}
                for error in invalid.errors(include_url=False)
            ]
            raise RequestValidationError(errors + await body_errors(request)) from None


async def body_errors(request: Request) -> list[dict[str, Any]]:
    """The errors FastAPI's handler would find in the request's body, located `("body", ...)`: the body read
    and validated as the handler reads and validates it (direct_calls.py).

    FastAPI has read the body before it solves any dependency (a body that is not JSON never gets here).
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return []
    body = await read_body(request, strict_content_type=strict_content_type_of(route))
    _, errors = validated(route.body_field, body)
    return errors
