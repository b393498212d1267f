"""Who is calling: a security scheme's check as a FastAPI dependency that runs once per request, and the
principal it names, which the generated routes hand to the interface as `caller`."""

# No `from __future__ import annotations`: FastAPI reads __call__'s annotations, and an instance has no
# module globals to resolve them in.
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from fastapi import Request

T = TypeVar("T")
SETTLED = "contract_runtime.security.settled"
"""The request scope's key for the results of the checks already settled for this request."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller a security scheme verified: `subject` is who they are (a bearer token's `sub`)."""

    subject: str


class SecurityScheme(Generic[T]):
    """FastAPI dependency: the check's result, computed once per request.

    ContractRoute settles a route's schemes before the body is read; FastAPI's own dependency solving
    then asks again and gets the same result without a second verification.
    """

    def __init__(self, check: Callable[[Request], Awaitable[T]]) -> None:
        self.check = check

    async def __call__(self, request: Request) -> T:
        settled: dict[object, object] = request.scope.setdefault(SETTLED, {})
        if self in settled:
            return cast(T, settled[self])
        result = await self.check(request)
        settled[self] = result
        return result
