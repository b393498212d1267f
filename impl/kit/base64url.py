"""Base64url from a client, accepted in one spelling only (RFC 4648 section 5, unpadded, as JWS uses it).

Python's base64 decoders (and python-jose's, built on them) are lenient: they drop characters outside
the alphabet, accept `=` padding and `+`/`/`, and ignore the unused low bits of the last character.
So many texts decode to the same bytes. A text is accepted here only when it is the canonical encoding
of what it decodes to: URL-safe alphabet, no padding, and re-encoding the bytes gives back the same
text. Tokens (impl.auth.compact_jws) and list cursors (impl.tasks.listing.cursors) are read through it.
"""

from __future__ import annotations

import base64
import binascii
import re

ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode(text: str) -> bytes:
    """The bytes `text` encodes, if it is their canonical unpadded base64url; else ValueError."""
    if not ALPHABET.fullmatch(text):
        raise ValueError("not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:  # a length of 4n + 1 characters encodes no whole byte
        raise ValueError("not a whole number of bytes") from None
    if encode(data) != text:
        raise ValueError("not the canonical encoding of its bytes")  # nonzero unused bits in the last character
    return data
