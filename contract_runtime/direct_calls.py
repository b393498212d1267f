"""A body-less operation's dependencies and endpoint, called in order without FastAPI's dependency solving.

The generated routes without a body have one shape: an async endpoint that takes nothing but its
dependencies (the security scheme, `RequestParameters`), each an async call that takes nothing but the
request, and that returns a Response. For that shape FastAPI's request handler does nothing the calls do
not do themselves, yet it costs a list request 50-63 µs of its 530 outside the database: it solves the
dependencies again on every request (signature checks, a cache, a values dict per level), extracts the
endpoint's context for its error messages and enters its telemetry steps (decision 0064).

`ContractRoute.get_route_handler` uses `direct_handler` where the route has that shape and FastAPI's own
handler everywhere else: routes with a body, and any route whenever the application has dependency
overrides (FastAPI's documented way to replace a dependency in tests), which only FastAPI's solving reads.
The route's ASGI app stays FastAPI's (`request_response`): its request object, exit stacks and exception
handling are unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def is_async(call: Callable[..., Any] | None) -> bool:
    """Whether calling `call` gives a coroutine: an async function, or an instance with an async __call__."""
    if call is None:
        return False
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004


def declares_parameters(dependant: Dependant) -> bool:
    """Whether it declares a parameter of any location, or a value FastAPI injects other than the request."""
    return bool(
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
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
        and not dependency.dependencies
        and is_async(dependency.call)
    )


def returns_a_response(endpoint: Callable[..., Any]) -> bool:
    returned = inspect.signature(endpoint).return_annotation
    return isinstance(returned, type) and issubclass(returned, Response)


def direct_handler(dependant: Dependant, *, fastapis: Handler, overrides_provider: Any | None) -> Handler | None:
    """The handler that calls the route's dependencies and endpoint directly when the route has the shape,
    else None. `fastapis` is FastAPI's own handler for the route, used whenever overrides are set."""
    endpoint = dependant.call
    if endpoint is None or not inspect.iscoroutinefunction(endpoint) or not returns_a_response(endpoint):
        return None
    if declares_parameters(dependant) or dependant.request_param_name is not None:
        return None
    if not all(takes_the_request_only(dependency) for dependency in dependant.dependencies):
        return None
    calls = [(str(dependency.name), dependency.call) for dependency in dependant.dependencies]
    if len({id(call) for _, call in calls}) != len(calls):
        return None  # FastAPI calls a dependency that is declared twice once per request, and shares its value

    async def handle(request: Request) -> Response:
        if overrides_provider is not None and getattr(overrides_provider, "dependency_overrides", None):
            return await fastapis(request)
        values = {name: await call(request) for name, call in calls}  # type: ignore[misc]
        response: Response = await endpoint(**values)
        return response

    return handle
