"""The per-process memory of verified tokens: never past a token's exp, nor past its own max age,
only for a token's canonical text, and bounded in entries and in bytes."""

from __future__ import annotations

import asyncio

import pytest

from impl.auth import compact_jws
from impl.auth.tokens import TokenVerifier
from impl.auth.verified_tokens import VerifiedTokens
from impl.http.problems import Unauthorized
from impl.settings import Settings
from tests.support import forge
from tests.support.tokens import SHARED_SECRET, shared_secret_token

BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def token(number: int = 0, *, signature_bytes: int = 32) -> str:
    """A text shaped like a canonical compact JWS, distinct per number (the memory does not verify)."""
    header, payload = forge.b64url_json({"alg": "HS256"}), forge.b64url_json({"n": number})
    return f"{header}.{payload}.{forge.b64url(bytes(signature_bytes))}"


def test_a_remembered_token_gives_its_subject_until_it_expires() -> None:
    clock = Clock()
    verified = VerifiedTokens(max_age=60, clock=clock)
    verified.remember(token(), "alice", expires_at=clock.now + 30)
    clock.now += 29.9
    assert verified.subject(token()) == "alice"
    clock.now += 0.1
    assert verified.subject(token()) is None


def test_a_long_lived_token_is_remembered_for_max_age_only() -> None:
    clock = Clock()
    verified = VerifiedTokens(max_age=60, clock=clock)
    verified.remember(token(), "alice", expires_at=clock.now + 3600)
    clock.now += 59.9
    assert verified.subject(token()) == "alice"
    clock.now += 0.1
    assert verified.subject(token()) is None


def test_only_the_exact_token_text_is_known() -> None:
    verified = VerifiedTokens(clock=Clock())
    verified.remember(token(), "alice", expires_at=2_000_000)
    assert verified.subject(token()) == "alice"
    assert verified.subject(token()[:-1] + "B") is None
    assert verified.subject(token() + " ") is None


def test_an_already_expired_token_is_never_remembered() -> None:
    clock = Clock()
    verified = VerifiedTokens(clock=clock)
    verified.remember(token(), "alice", expires_at=clock.now - 1)
    assert verified.subject(token()) is None
    assert (len(verified), verified.bytes) == (0, 0)


def test_beyond_max_entries_the_oldest_is_forgotten() -> None:
    verified = VerifiedTokens(max_entries=3, clock=Clock())
    for number in range(4):
        verified.remember(token(number), f"user-{number}", expires_at=2_000_000)
    assert verified.subject(token(0)) is None
    assert [verified.subject(token(number)) for number in (1, 2, 3)] == ["user-1", "user-2", "user-3"]


@pytest.mark.parametrize(
    "variant",
    [
        token() + "!!!!",
        token() + "=",
        token().replace(".", "=.", 1),
        token().replace("A", "/", 1),
        token()[:-1] + "B",  # "A" with an unused bit set: the same 32 bytes to a lenient decoder
        token() + ".AAAA",
        "not-a-jwt",
    ],
    ids=["junk", "padding", "padded-header", "slash", "unused-bits-set", "four-segments", "not-a-jwt"],
)
def test_a_text_that_is_not_canonical_cannot_be_remembered(variant: str) -> None:
    verified = VerifiedTokens(clock=Clock())
    with pytest.raises(ValueError, match="canonical"):
        verified.remember(variant, "alice", expires_at=2_000_000)
    assert (len(verified), verified.bytes) == (0, 0)


def test_beyond_max_bytes_the_oldest_are_forgotten() -> None:
    size = len(token(0)) + len("user-0")
    verified = VerifiedTokens(max_bytes=3 * size + 1, clock=Clock())
    for number in range(5):
        verified.remember(token(number), f"user-{number}", expires_at=2_000_000)
        assert verified.bytes <= verified.max_bytes
    assert [verified.subject(token(number)) for number in range(5)] == [None, None, "user-2", "user-3", "user-4"]
    assert verified.bytes == 3 * size


def test_a_large_token_makes_room_by_forgetting_as_many_as_needed() -> None:
    verified = VerifiedTokens(max_bytes=2000, clock=Clock())
    for number in range(10):
        verified.remember(token(number), "user", expires_at=2_000_000)
    large = token(99, signature_bytes=1200)
    verified.remember(large, "user", expires_at=2_000_000)
    assert verified.subject(large) == "user"
    assert verified.bytes <= 2000
    assert verified.subject(token(0)) is None
    assert verified.subject(token(9)) == "user"


def test_a_token_larger_than_max_bytes_is_not_remembered_and_evicts_nothing() -> None:
    verified = VerifiedTokens(max_bytes=1000, clock=Clock())
    verified.remember(token(), "alice", expires_at=2_000_000)
    verified.remember(token(1, signature_bytes=1000), "bob", expires_at=2_000_000)
    assert verified.subject(token(1, signature_bytes=1000)) is None
    assert verified.subject(token()) == "alice"


def test_remembering_a_token_again_counts_it_once() -> None:
    verified = VerifiedTokens(clock=Clock())
    for _ in range(3):
        verified.remember(token(), "alice", expires_at=2_000_000)
    assert (len(verified), verified.bytes) == (1, len(token()) + len("alice"))


def test_an_expired_entry_gives_its_bytes_back() -> None:
    clock = Clock()
    verified = VerifiedTokens(max_age=60, clock=clock)
    verified.remember(token(), "alice", expires_at=clock.now + 30)
    clock.now += 30
    assert verified.subject(token()) is None
    assert (len(verified), verified.bytes) == (0, 0)


# --- the verifier: variants of a valid token are refused before python-jose, and never remembered ---


@pytest.fixture
def verifier(monkeypatch: pytest.MonkeyPatch) -> TokenVerifier:
    for name in ("BETTER_AUTH_SECRET", "JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JWT_SECRET", SHARED_SECRET)
    return TokenVerifier(Settings(_env_file=None))


def variants(valid: str) -> list[str]:
    header, payload, signature = forge.parts(valid)
    plus_slash = valid.replace("-", "+").replace("_", "/")
    return [
        valid + "~" * 100,
        valid + "=" * (-len(signature) % 4),
        f"{header}=.{payload}.{signature}" if len(header) % 4 else f"{header}==.{payload}.{signature}",
        *([plus_slash] if plus_slash != valid else []),
        f"{header}.{payload}.{base64_with_unused_bits_set(signature)}",
        f"{header}.{payload}.{signature}!{signature[:4]}",
    ]


def base64_with_unused_bits_set(text: str) -> str:
    """The same bytes to a lenient decoder: the last character with its lowest (unused) bit set."""
    return text[:-1] + BASE64URL_ALPHABET[BASE64URL_ALPHABET.index(text[-1]) | 1]


def test_variants_of_a_verified_token_are_refused_and_never_remembered(verifier: TokenVerifier) -> None:
    valid = shared_secret_token("alice", iss=None, aud=None)
    assert len(forge.parts(valid)[2]) % 4  # a 32-byte signature: its last character has unused bits
    assert asyncio.run(verifier.subject(valid)) == "alice"
    remembered = (len(verifier.verified), verifier.verified.bytes)
    for variant in variants(valid):
        with pytest.raises(Unauthorized):
            asyncio.run(verifier.subject(variant))
    assert (len(verifier.verified), verifier.verified.bytes) == remembered == (1, len(valid) + len("alice"))


def test_a_signed_megabyte_token_is_refused_by_its_length_without_being_decoded(verifier: TokenVerifier) -> None:
    # Validly signed and canonical: decoded, it would be accepted. Refused as not a compact JWS, it was
    # stopped by the first check, on its length, before anything decoded it.
    megabyte = shared_secret_token("alice", iss=None, aud=None, padding="x" * (1 << 20))
    with pytest.raises(Unauthorized, match="not a compact JWS"):
        asyncio.run(verifier.subject(megabyte))
    assert len(verifier.verified) == 0
    within_the_bound = shared_secret_token("alice", iss=None, aud=None, padding="x" * 5000)
    assert len(within_the_bound) <= compact_jws.MAX_TOKEN_LENGTH
    assert asyncio.run(verifier.subject(within_the_bound)) == "alice"
