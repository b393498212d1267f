"""The canonical text of base64url and of a compact JWS: one accepted spelling of each byte string."""

from __future__ import annotations

import base64
import os

import pytest

from impl.auth.compact_jws import MAX_TOKEN_LENGTH, canonical, well_formed
from impl.kit import base64url

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def with_unused_bits_set(text: str) -> str:
    """The same bytes to a lenient decoder: the last character with its lowest (unused) bit set."""
    last = ALPHABET.index(text[-1])
    return text[:-1] + ALPHABET[last | 1]


TOKEN = ".".join([b64url(b'{"alg":"HS256"}'), b64url(b'{"sub":"alice"}'), b64url(os.urandom(32))])


@pytest.mark.parametrize("length", range(0, 70))
def test_the_canonical_text_of_any_bytes_decodes_to_them(length: int) -> None:
    data = os.urandom(length)
    assert base64url.decode(b64url(data)) == data


@pytest.mark.parametrize("length", [1, 2, 4, 5, 31, 32, 256])  # 2 or 4 unused bits in the last character
def test_a_last_character_with_unused_bits_set_is_refused(length: int) -> None:
    text = b64url(bytes(length))  # all zero bytes: the last character is "A", whose unused bits are clear
    variant = with_unused_bits_set(text)
    assert base64.urlsafe_b64decode(variant + "=" * (-len(variant) % 4)) == bytes(length)  # lenient decoders agree
    with pytest.raises(ValueError, match="canonical"):
        base64url.decode(variant)


@pytest.mark.parametrize(
    "text",
    ["AAAA=", "AAA=", "AA==", "+/+/", "AA/A", "AA+A", "AAAA!", "AA AA", "AAAA\n", "ＡＡＡＡ", "AAAAA", "A"],
    ids=[
        "padding-after-whole",
        "padding",
        "double-padding",
        "plus-slash",
        "slash",
        "plus",
        "junk",
        "space",
        "newline",
        "fullwidth",
        "4n+1-characters",
        "one-character",
    ],
)
def test_anything_but_canonical_unpadded_base64url_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"base64url|bytes|canonical"):
        base64url.decode(text)


def test_a_compact_jws_of_canonical_segments_is_canonical() -> None:
    assert well_formed(TOKEN)
    assert canonical(TOKEN)


@pytest.mark.parametrize(
    "variant",
    [
        TOKEN + "!!",
        TOKEN + "=",
        TOKEN + "==",
        TOKEN.replace(".", "=.", 1),
        TOKEN + "." + TOKEN.split(".")[2],
        TOKEN + ".",
        ".".join(TOKEN.split(".")[:2]),
        ".".join(TOKEN.split(".")[:2]) + ".",
        "." + TOKEN.split(".", 1)[1],
        TOKEN.replace(".", "..", 1),
        TOKEN + " ",
        " " + TOKEN,
        TOKEN + "\n",
        TOKEN + "A" * MAX_TOKEN_LENGTH,
    ],
    ids=[
        "junk-after-signature",
        "padding",
        "double-padding",
        "padded-header",
        "four-segments",
        "empty-fourth-segment",
        "two-segments",
        "empty-signature",
        "empty-header",
        "empty-payload",
        "trailing-space",
        "leading-space",
        "trailing-newline",
        "over-the-length-bound",
    ],
)
def test_a_token_not_made_of_three_canonical_segments_is_refused(variant: str) -> None:
    assert not canonical(variant)


def test_plus_and_slash_in_a_token_are_refused() -> None:
    token = TOKEN.replace(TOKEN.split(".")[2], b64url(b"\xfb\xff\xbf" * 11))  # encodes as "-_-_" repeated
    assert canonical(token)
    assert not well_formed(token.replace("-", "+").replace("_", "/"))


def test_a_signature_with_unused_bits_set_is_well_formed_but_not_canonical() -> None:
    variant = with_unused_bits_set(TOKEN)  # a 32-byte signature: 43 characters, 2 unused bits
    assert well_formed(variant)  # the cheap check before the verified-token memory lets it through
    assert not canonical(variant)  # the full check before python-jose does not


def test_the_length_bound_is_inclusive() -> None:
    header, payload, _ = TOKEN.split(".")
    signature_length = MAX_TOKEN_LENGTH - len(header) - len(payload) - 2
    signature = b64url(bytes(signature_length * 3 // 4))
    token = f"{header}.{payload}.{signature}"
    assert len(token) <= MAX_TOKEN_LENGTH
    assert canonical(token)
    assert not well_formed(token + "AAAA")
