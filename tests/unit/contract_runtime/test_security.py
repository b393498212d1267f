"""A security scheme's check runs once per request, however often FastAPI and the route ask."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import Request

from contract_runtime.security import SecurityScheme


def new_request() -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""})


def test_a_settled_check_answers_the_same_result_without_running_again() -> None:
    calls: list[Request] = []

    async def check(request: Request) -> str:
        calls.append(request)
        return f"subject {len(calls)}"

    scheme = SecurityScheme(check)
    request = new_request()
    again = Request(request.scope)  # another Request object for the same request, as a route handler makes

    async def ask() -> list[str]:
        return [await scheme(request), await scheme(again), await scheme(new_request())]

    assert asyncio.run(ask()) == ["subject 1", "subject 1", "subject 2"]


def test_a_refusal_is_not_remembered() -> None:
    attempts = 0

    async def check(request: Request) -> str:
        nonlocal attempts
        attempts += 1
        raise PermissionError("no token")

    scheme = SecurityScheme(check)
    request = new_request()
    for _ in range(2):
        with pytest.raises(PermissionError):
            asyncio.run(scheme(request))
    assert attempts == 2
