"""What FastAPI's request handler would cost a list request, in process, against the calls the service makes.

    .venv/bin/python -m bench.handling_price

The service is built as the bench serves it and driven as bench/cpu_breakdown.py drives it (uvicorn's
protocol class, a stand-in socket, canned rows). The list route's ASGI app as served (FastAPI's
`request_response` around ContractRoute's direct calls of the dependencies and endpoint, decision 0064)
takes turns, batch by batch, with the same route around FastAPI's own request handler (its dependency
solving, endpoint context and telemetry steps), which the service used before. Both answer the same.
"""

from __future__ import annotations

import asyncio
import statistics
import sys

from fastapi.routing import APIRoute, request_response

from bench import cpu_breakdown


def main(*, batch: int = 500, batches: int = 30) -> None:
    app, request = cpu_breakdown.served_app("list")
    route = next(r for r in app.routes if getattr(r, "path", "") == "/api/{user_id}/tasks" and "GET" in r.methods)
    assert isinstance(route, APIRoute)
    apps = {"FastAPI's handler": request_response(APIRoute.get_route_handler(route)), "direct calls": route.app}

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
    framework, direct = medians["FastAPI's handler"], medians["direct calls"]
    print(
        f"CPU per list request outside the database: with FastAPI's request handler {framework:.0f} µs, "
        f"with the direct calls the service makes {direct:.0f} µs; "
        f"the direct calls save {framework - direct:.0f} µs ({(framework - direct) / framework:.1%})"
    )


if __name__ == "__main__":
    main()
