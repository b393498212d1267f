"""The `bearerAuth` security scheme: a verified token whose `sub` owns the path's `user_id`."""

from __future__ import annotations

from fastapi import Request

from impl.auth.tokens import TokenVerifier
from impl.http.problems import Forbidden, MissingCredentials, Unauthorized

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
    """FastAPI dependency: authenticates and authorizes the path; it reads and writes no database.

    It runs before the path is validated, so the `user_id` it compares may be outside the contract;
    only a validated one reaches the tasks service, where a user's first create writes the user row
    (decision 0032).
    """

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier

    async def __call__(self, request: Request) -> str:
        subject = await self.verifier.subject(bearer_token(request))
        request.state.user_id = subject
        if request.path_params.get("user_id") != subject:
            raise Forbidden("The token's subject may not access this user's tasks.")
        return subject
