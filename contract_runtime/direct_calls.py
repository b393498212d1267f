"""An operation's dependencies and endpoint, called in order without FastAPI's dependency solving.

The generated routes have one shape: an async endpoint that takes its dependencies (the security scheme,
`RequestParameters`), each an async call that takes nothing but the request, and, for the writes, one
required JSON body; it returns a Response. For that shape FastAPI's request handler does nothing the calls
do not do themselves, yet it costs a list request 50-63 µs of its 530 outside the database (decision 0064)
and a write 73-81 µs of its 300 (decision 0066): it solves the dependencies again on every request (signature
checks, a cache, a values dict per level), extracts the endpoint's context for its error messages and
enters its telemetry steps.

`ContractRoute.get_route_handler` uses `direct_handler` where the route has that shape and FastAPI's own
handler everywhere else, and for any request while the application has dependency overrides (FastAPI's
documented way to replace a dependency in tests), which only FastAPI's solving reads. The route's ASGI app
stays FastAPI's (`request_response`): its request object, exit stacks and exception handling are unchanged.
"""

from __future__ import annotations

import email.message
import inspect
import json
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from fastapi import Request, Response, params
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic_core import PydanticUndefined
from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

from contract_runtime.request_body import missing_body_error

if TYPE_CHECKING:
    from fastapi._compat import ModelField

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
BODY = ("body",)


def is_async(call: Callable[..., Any] | None) -> bool:
    """Whether calling `call` gives a coroutine: an async function, or an instance with an async __call__."""
    if call is None:
        return False
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004


def declares_parameters(dependant: Dependant) -> bool:
    """Whether it declares a parameter of any location but the body, or a value FastAPI injects other than
    the request."""
    return bool(
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    )


def takes_the_request_only(dependency: Dependant) -> bool:
    """An async dependency, bound to an endpoint parameter, computed from the request alone."""
    return (
        dependency.name is not None
        and dependency.request_param_name is not None
        and not declares_parameters(dependency)
        and not dependency.body_params
        and not dependency.dependencies
        and is_async(dependency.call)
    )


def is_one_json_body(dependant: Dependant, body_field: ModelField, *, embedded: bool) -> bool:
    """Whether the endpoint reads one required body, as JSON, as a whole (not embedded in an object)."""
    info = body_field.field_info
    return (
        not embedded
        and len(dependant.body_params) == 1
        and dependant.body_params[0] is body_field
        and isinstance(info, params.Body)
        and not isinstance(info, params.Form)
        and info.is_required()
    )


def returns_a_response(endpoint: Callable[..., Any]) -> bool:
    returned = inspect.signature(endpoint).return_annotation
    return isinstance(returned, type) and issubclass(returned, Response)


async def read_body(request: Request, *, strict_content_type: bool) -> Any:
    """The body as FastAPI's handler reads it for a JSON body: PydanticUndefined when empty, its JSON
    when the Content-Type is JSON (`application/json`, `+json`; or absent and not strict), else the bytes.

    The errors are FastAPI's too: an HTTPException raised while reading passes (ContractRoute's request
    raises MalformedBody, one, for a body that is not JSON), json's own decode error is a 422 at
    ("body", <position>), any other error an anonymous 400.
    """
    try:
        body = await request.body()
        if not body:
            return PydanticUndefined
        content_type = request.headers.get("content-type")
        if not content_type:
            return body if strict_content_type else await request.json()
        message = email.message.Message()
        message["content-type"] = content_type
        if message.get_content_maintype() == "application":
            subtype = message.get_content_subtype()
            if subtype == "json" or subtype.endswith("+json"):
                return await request.json()
        return body
    except json.JSONDecodeError as error:
        invalid = {"type": "json_invalid", "loc": ("body", error.pos), "msg": "JSON decode error", "input": {}}
        raise RequestValidationError([{**invalid, "ctx": {"error": error.msg}}], body=error.doc) from error
    except HTTPException:
        raise
    except Exception as error:
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from error


def validated(body_field: ModelField, body: Any) -> tuple[Any, list[Any]]:
    """The body as the endpoint takes it, and the errors FastAPI's handler finds in it, located ("body", ...):
    an empty body is a missing one when the body is required."""
    if body is PydanticUndefined:
        return None, [missing_body_error()] if body_field.field_info.is_required() else []
    value, errors = body_field.validate(body, {}, loc=BODY)
    return value, list(errors)


def strict_content_type_of(route: APIRoute) -> bool:
    """Whether the route reads a body without a Content-Type as bytes (FastAPI's default) rather than JSON."""
    strict = route.strict_content_type
    return strict.value if isinstance(strict, DefaultPlaceholder) else strict


def overrides_of(provider: Any | None) -> Mapping[Any, Any]:
    """The dependency overrides the application has set (FastAPI's documented way to replace one in tests)."""
    return getattr(provider, "dependency_overrides", None) or {}


def direct_handler(
    dependant: Dependant,
    *,
    fastapis: Handler,
    overrides_provider: Any | None,
    body_field: ModelField | None = None,
    embed_body_fields: bool = False,
    strict_content_type: bool = True,
) -> Handler | None:
    """The handler that calls the route's dependencies and endpoint directly when the route has the shape,
    else None. `fastapis` is FastAPI's own handler for the route, used whenever overrides are set; the
    body's arguments are the route's own."""
    endpoint = dependant.call
    if endpoint is None or not inspect.iscoroutinefunction(endpoint) or not returns_a_response(endpoint):
        return None
    if declares_parameters(dependant) or dependant.request_param_name is not None:
        return None
    if body_field is None and dependant.body_params:
        return None
    if body_field is not None and not is_one_json_body(dependant, body_field, embedded=embed_body_fields):
        return None
    if not all(takes_the_request_only(dependency) for dependency in dependant.dependencies):
        return None
    calls = [(str(dependency.name), dependency.call) for dependency in dependant.dependencies]
    if len({id(call) for _, call in calls}) != len(calls):
        return None  # FastAPI calls a dependency that is declared twice once per request, and shares its value

    def overridden() -> bool:
        return bool(overrides_of(overrides_provider))

    if body_field is None:

        async def handle(request: Request) -> Response:
            if overridden():
                return await fastapis(request)
            values = {name: await call(request) for name, call in calls}  # type: ignore[misc]
            response: Response = await endpoint(**values)
            return response

        return handle

    body_name = body_field.name

    async def handle_with_body(request: Request) -> Response:
        # Under FastAPI's own body limit (max_body_size) reading may raise an error only its handler knows.
        if overridden() or MAX_BODY_SIZE_SCOPE_KEY in request.scope:
            return await fastapis(request)
        # As FastAPI's handler: the body is read before the dependencies and validated after them.
        body = await read_body(request, strict_content_type=strict_content_type)
        values = {name: await call(request) for name, call in calls}  # type: ignore[misc]
        value, errors = validated(body_field, body)
        if errors:
            raise RequestValidationError(errors, body=None if body is PydanticUndefined else body)
        values[body_name] = value
        response: Response = await endpoint(**values)
        return response

    return handle_with_body
