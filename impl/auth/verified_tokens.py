"""Bearer tokens this process has already verified, so a client's next request skips the signature check.

A client sends the same token on every request until it expires; verifying it costs more CPU than
the rest of authentication (decision 0021). Remembering a verified token is safe across processes:
each process would reach the same verdict. Only successes are remembered, keyed by the exact token
text, so a token altered in any byte is verified afresh. An entry ends at the token's `exp` and at
most `max_age` seconds after it was verified, so a signing key withdrawn from the JWKS stops
working within that time once the key set has been refetched.

Only the canonical text of a token can be remembered (decision 0025): python-jose would verify
variants of a valid token (junk appended, padding, `+`/`/`), and each would otherwise be an entry of
its own. So a text found here is canonical, and the memory is bounded in bytes as well as entries.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from impl.auth.compact_jws import canonical

MAX_AGE_SECONDS = 60.0
MAX_ENTRIES = 10_000
# Characters of tokens and subjects held (a token's text is ASCII: one byte each). 10,000 ES256 Better
# Auth tokens (~0.8 KiB) fit, and at least 1,000 of the largest tokens accepted (8 KiB).
MAX_BYTES = 8 * 1024 * 1024


class VerifiedTokens:
    def __init__(
        self,
        *,
        max_age: float = MAX_AGE_SECONDS,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_age = max_age
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.clock = clock
        self._subjects: dict[str, tuple[str, float]] = {}
        self.bytes = 0  # characters of the tokens and subjects held

    def __len__(self) -> int:
        return len(self._subjects)

    def subject(self, token: str) -> str | None:
        """The subject of a token verified earlier and still valid, else None."""
        entry = self._subjects.get(token)
        if entry is None:
            return None
        subject, valid_until = entry
        if self.clock() >= valid_until:
            self._forget(token)
            return None
        return subject

    def remember(self, token: str, subject: str, expires_at: float) -> None:
        """Remember a verified token; ValueError if its text is not canonical (it must be refused, not verified)."""
        if not canonical(token):
            raise ValueError("only the canonical text of a verified token can be remembered")
        size = len(token) + len(subject)
        if size > self.max_bytes:
            return
        self._forget(token)
        # The oldest entries go first (dicts keep insertion order); they are the nearest to their end.
        while self._subjects and (len(self._subjects) >= self.max_entries or self.bytes + size > self.max_bytes):
            self._forget(next(iter(self._subjects)))
        self._subjects[token] = (subject, min(expires_at, self.clock() + self.max_age))
        self.bytes += size

    def _forget(self, token: str) -> None:
        entry = self._subjects.pop(token, None)
        if entry is not None:
            self.bytes -= len(token) + len(entry[0])
