"""The one accepted text of base64url from a client, and of a compact JWS made of it (RFC 7515 section 7.1).

Python's base64 decoders (and python-jose's, built on them) are lenient: they drop characters outside
the alphabet, accept `=` padding and `+`/`/`, and ignore the unused low bits of the last character.
So many texts decode to the same bytes, and a signature check on the bytes cannot tell them apart.
Here a text is accepted only when it is the canonical encoding of what it decodes to: URL-safe
alphabet, no padding, and re-encoding the bytes gives back the very same text.
"""

from __future__ import annotations

import base64
import binascii
import re

# A token longer than this is refused unread. Better Auth's tokens (the whole user in the payload) are
# 0.8 KiB (ES256) to 1.4 KiB (RS256 with a 4096-bit key); 8 KiB is also nginx's default header buffer.
MAX_TOKEN_LENGTH = 8192
BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
# Three non-empty segments of the URL-safe alphabet: cheap enough for every request, before the
# verified-token memory is asked; the canonical check (below) runs only before a signature check.
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def canonical_base64url_decode(text: str) -> bytes:
    """The bytes `text` encodes, if it is their canonical unpadded base64url; else ValueError."""
    if not BASE64URL.fullmatch(text):
        raise ValueError("not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:  # a length of 4n + 1 characters encodes no whole byte
        raise ValueError("not a whole number of bytes") from None
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != text:
        raise ValueError("not the canonical encoding of its bytes")  # nonzero unused bits in the last character
    return data


def well_formed(token: str) -> bool:
    """Whether `token` has the shape of a compact JWS: bounded, three non-empty base64url segments."""
    return len(token) <= MAX_TOKEN_LENGTH and COMPACT_JWS.fullmatch(token) is not None


def canonical(token: str) -> bool:
    """Whether `token` is well formed and each segment is the canonical encoding of its bytes."""
    if not well_formed(token):
        return False
    try:
        for segment in token.split("."):
            canonical_base64url_decode(segment)
    except ValueError:
        return False
    return True
