"""What FastAPI's request handling costs a list request, in process: the price of using the framework.

    .venv/bin/python -m bench.handling_price

The service is built as the bench serves it and driven as bench/cpu_breakdown.py drives it (uvicorn's
protocol class, a stand-in socket, canned rows). The list route's ASGI app (FastAPI's: the request and
response wrapping, its exception handling, dependency solving, the endpoint call) takes turns, batch by
batch, with a function that calls the same two dependencies (the bearer scheme, `RequestParameters`) and
the same generated endpoint directly and sends the Response it returns. That function handles the happy
path only, so the difference is an upper bound on what leaving FastAPI's handling would save. Issue 22's
note has the figures.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
from typing import Any

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from bench import cpu_breakdown


def direct_call(route: Any) -> Any:
    """The route's dependencies and endpoint called in order, with no framework between them."""
    security, parameters = (dependency.call for dependency in route.dependant.dependencies)
    endpoint = route.endpoint

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        caller = await security(request)
        response = await endpoint(caller=caller, parameters=await parameters(request))
        await response(scope, receive, send)

    return app


def main(*, batch: int = 500, batches: int = 30) -> None:
    app, request = cpu_breakdown.served_app("list")
    route = next(r for r in app.routes if getattr(r, "path", "") == "/api/{user_id}/tasks" and "GET" in r.methods)
    apps = {"FastAPI's handling": route.app, "direct call": direct_call(route)}

    async def measure() -> dict[str, float]:
        from bench.request_cpu import started

        lifespan = await started(app)
        send = cpu_breakdown.connection(app)
        per_request: dict[str, list[float]] = {name: [] for name in apps}
        for handling in apps.values():
            route.app = handling
            await cpu_breakdown.warmed_connection(send, request)  # each answers 200, or the run stops
        for _ in range(batches):
            for name, handling in apps.items():
                route.app = handling
                per_request[name].append(await cpu_breakdown.cpu_per_request(send, request, batch))
        del lifespan
        return {name: statistics.median(figures) for name, figures in per_request.items()}

    print(f"list: {batches} batches of {batch} requests each way, taking turns", file=sys.stderr)
    medians = asyncio.run(measure())
    framework, direct = medians["FastAPI's handling"], medians["direct call"]
    print(
        f"CPU per list request outside the database: with FastAPI's handling {framework:.0f} µs, "
        f"with a direct call of the same dependencies and endpoint {direct:.0f} µs; "
        f"the handling costs {framework - direct:.0f} µs ({(framework - direct) / framework:.1%})"
    )


if __name__ == "__main__":
    main()
