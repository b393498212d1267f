"""Bearer tokens this process has already verified, so a client's next request skips the signature check.

A client sends the same token on every request until it expires; verifying it costs more CPU than
the rest of authentication (decision 0021). Remembering a verified token is safe across processes:
each process would reach the same verdict. Only successes are remembered, keyed by the exact token
text, so a token altered in any byte is verified afresh. An entry ends at the token's `exp` and at
most `max_age` seconds after it was verified, so a signing key withdrawn from the JWKS stops
working within that time once the key set has been refetched.
"""

from __future__ import annotations

import time
from collections.abc import Callable

MAX_AGE_SECONDS = 60.0
MAX_ENTRIES = 10_000


class VerifiedTokens:
    def __init__(
        self,
        *,
        max_age: float = MAX_AGE_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_age = max_age
        self.max_entries = max_entries
        self.clock = clock
        self._subjects: dict[str, tuple[str, float]] = {}

    def subject(self, token: str) -> str | None:
        """The subject of a token verified earlier and still valid, else None."""
        entry = self._subjects.get(token)
        if entry is None:
            return None
        subject, valid_until = entry
        if self.clock() >= valid_until:
            del self._subjects[token]
            return None
        return subject

    def remember(self, token: str, subject: str, expires_at: float) -> None:
        valid_until = min(expires_at, self.clock() + self.max_age)
        if len(self._subjects) >= self.max_entries:
            # The oldest entry goes first (dicts keep insertion order); it is the nearest to its end.
            del self._subjects[next(iter(self._subjects))]
        self._subjects[token] = (subject, valid_until)
