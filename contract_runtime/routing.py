"""The generated routes' class, and what the application's own routing says about a request."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from contract_runtime.direct_calls import direct_handler, overrides_of, strict_content_type_of
from contract_runtime.request_body import JsonBodyRequest
from contract_runtime.security import SecurityScheme


class ContractRoute(APIRoute):
    """An APIRoute that settles its security schemes before it reads the body, and calls an operation's
    dependencies and endpoint directly.

    FastAPI reads and parses the body before it solves any dependency, so a malformed body would be
    a 400 even without a token; the contract answers 401 or 403 first and tells an unknown caller
    nothing about its body. A scheme replaced by a dependency override is left to FastAPI's solving, which
    alone reads overrides. Routes without a body solve the schemes first anyway. Where a route has the
    generated routes' shape, its calls are made without FastAPI's dependency solving (direct_calls.py).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        fastapis = super().get_route_handler()
        handle = (
            direct_handler(
                self.dependant,
                fastapis=fastapis,
                overrides_provider=self.dependency_overrides_provider,
                body_field=self.body_field,
                embed_body_fields=self._embed_body_fields,
                strict_content_type=strict_content_type_of(self),
            )
            or fastapis
        )
        if self.body_field is None:
            return handle
        schemes = [
            dependency.call for dependency in self.dependant.dependencies if isinstance(dependency.call, SecurityScheme)
        ]

        overrides_provider = self.dependency_overrides_provider

        async def authenticated_then_read(request: Request) -> Response:
            request = JsonBodyRequest(request.scope, request.receive)
            overrides = overrides_of(overrides_provider)
            for scheme in schemes:
                if scheme not in overrides:  # an overridden scheme is FastAPI's to call, in its handler
                    await scheme(request)
            return await handle(request)

        return authenticated_then_read


def matching(routes: Iterable[BaseRoute], scope: Scope) -> Iterable[tuple[Match, BaseRoute]]:
    for route in routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            yield match, route


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route takes at the request's path (Starlette's own 405 names only the first route's)."""
    return sorted(
        {method for _, route in matching(routes, scope) if isinstance(route, Route) for method in route.methods or ()}
    )


def body_media_types(routes: Iterable[BaseRoute], scope: Scope) -> tuple[str, ...] | None:
    """The media types the operation at the request's method and path reads its body as; None when it reads none."""
    method = scope["method"]
    # A route that does not take the method cannot match in full; skipping it spares matching its path.
    candidates = (
        route for route in routes if not isinstance(route, Route) or not route.methods or method in route.methods
    )
    for match, route in matching(candidates, scope):
        if match is Match.FULL:
            if isinstance(route, APIRoute) and route.body_field is not None:
                return (route.body_field.field_info.media_type,)  # type: ignore[attr-defined]
            return None
    return None
