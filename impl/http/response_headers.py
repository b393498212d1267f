"""Security headers every answer carries, whichever layer answered (OWASP REST Security; decision 0043).

nosniff on all: a browser never reads an answer as another media type than it says (a problem document
as HTML, say). The API's answers, its problems among them (a 401 or 403 too), hold one user's data or
say what they may do: `no-store`, no cache keeps a copy. The rest (probes, the contract, the docs) is
public and the same for everyone: `no-cache`, a copy may be kept but is checked with the service
before each use, so a probe always reaches it and a release's contract is seen at once.
"""

from __future__ import annotations

API_PREFIX = "/api/"
NOSNIFF = (b"x-content-type-options", b"nosniff")
API_HEADERS = (NOSNIFF, (b"cache-control", b"no-store"))
PUBLIC_HEADERS = (NOSNIFF, (b"cache-control", b"no-cache"))


def security_headers(path: str) -> tuple[tuple[bytes, bytes], ...]:
    """The headers an answer to a request for `path` gets; no route sets them itself."""
    return API_HEADERS if path.startswith(API_PREFIX) else PUBLIC_HEADERS
