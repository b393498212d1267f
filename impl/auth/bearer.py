"""The `bearerAuth` security scheme: the caller a verified bearer token names.

What the caller may do is not decided here: the tasks service's owner rule compares the caller with the
path's user (decision 0055).
"""

from __future__ import annotations

from fastapi import Request

from contract_runtime.security import Principal
from impl.auth.tokens import TokenVerifier
from impl.http.problems import MissingCredentials, Unauthorized

# The whole header value, refused unread above this; compact_jws.MAX_TOKEN_LENGTH bounds the token too.
MAX_AUTHORIZATION_LENGTH = 8192


def bearer_token(request: Request) -> str:
    authorization = request.headers.get("authorization", "")
    if len(authorization) > MAX_AUTHORIZATION_LENGTH:
        raise Unauthorized(f"The Authorization header is longer than {MAX_AUTHORIZATION_LENGTH} bytes.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise MissingCredentials()
    token = token.strip()
    if not token:
        raise Unauthorized("The bearer token is empty.")
    return token


class BearerAuth:
    """The scheme's check: the principal the request's bearer token names, else 401; it reads and writes no database."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier

    async def __call__(self, request: Request) -> Principal:
        subject = await self.verifier.subject(bearer_token(request))
        request.state.user_id = subject  # for the request log line
        return Principal(subject)
