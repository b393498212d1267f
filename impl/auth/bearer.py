"""The `bearerAuth` security scheme: a verified token whose `sub` owns the path's `user_id`."""

from __future__ import annotations

import re
from collections import OrderedDict

from fastapi import Request

from impl.auth.tokens import TokenVerifier
from impl.database import Database
from impl.problems import Forbidden, MissingCredentials, Unauthorized
from impl.tasks import repository

USER_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
KNOWN_USERS_PER_PROCESS = 100_000
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
    """FastAPI dependency: authenticates, authorizes the path, and records the user on first sight.

    The user row is inserted with ON CONFLICT DO NOTHING, so any number of processes may race;
    the per-process memory of users already recorded only saves the round trip.
    """

    def __init__(self, verifier: TokenVerifier, database: Database) -> None:
        self.verifier = verifier
        self.database = database
        self._recorded: OrderedDict[str, None] = OrderedDict()

    async def __call__(self, request: Request) -> str:
        subject = await self.verifier.subject(bearer_token(request))
        request.state.user_id = subject
        if request.path_params.get("user_id") != subject:
            raise Forbidden("The token's subject may not access this user's tasks.")
        if USER_ID.fullmatch(subject):
            await self._record(subject)
        return subject

    async def _record(self, user_id: str) -> None:
        if user_id in self._recorded:
            self._recorded.move_to_end(user_id)
            return
        async with self.database.connection() as conn:
            await repository.ensure_user(conn, user_id)
        self._recorded[user_id] = None
        if len(self._recorded) > KNOWN_USERS_PER_PROCESS:
            self._recorded.popitem(last=False)
