"""The one accepted text of a compact JWS (RFC 7515 section 7.1): three canonical base64url segments.

python-jose decodes leniently, so a signature check on the decoded bytes cannot tell a token from its
other spellings; each segment must be the canonical encoding of its bytes (impl.kit.base64url).
"""

from __future__ import annotations

import re

from impl.kit import base64url

# A token longer than this is refused unread. Better Auth's tokens (the whole user in the payload) are
# 0.8 KiB (ES256) to 1.4 KiB (RS256 with a 4096-bit key); 8 KiB is also nginx's default header buffer.
MAX_TOKEN_LENGTH = 8192
# Three non-empty segments of the URL-safe alphabet: cheap enough for every request, before the
# verified-token memory is asked; the canonical check (below) runs only before a signature check.
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def well_formed(token: str) -> bool:
    """Whether `token` has the shape of a compact JWS: bounded, three non-empty base64url segments."""
    return len(token) <= MAX_TOKEN_LENGTH and COMPACT_JWS.fullmatch(token) is not None


def canonical(token: str) -> bool:
    """Whether `token` is well formed and each segment is the canonical encoding of its bytes."""
    if not well_formed(token):
        return False
    try:
        for segment in token.split("."):
            base64url.decode(segment)
    except ValueError:
        return False
    return True
