"""The per-process memory of verified tokens: never past a token's exp, nor past its own max age."""

from __future__ import annotations

from impl.auth.verified_tokens import VerifiedTokens


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_remembered_token_gives_its_subject_until_it_expires() -> None:
    clock = Clock()
    verified = VerifiedTokens(max_age=60, clock=clock)
    verified.remember("token", "alice", expires_at=clock.now + 30)
    clock.now += 29.9
    assert verified.subject("token") == "alice"
    clock.now += 0.1
    assert verified.subject("token") is None


def test_a_long_lived_token_is_remembered_for_max_age_only() -> None:
    clock = Clock()
    verified = VerifiedTokens(max_age=60, clock=clock)
    verified.remember("token", "alice", expires_at=clock.now + 3600)
    clock.now += 59.9
    assert verified.subject("token") == "alice"
    clock.now += 0.1
    assert verified.subject("token") is None


def test_only_the_exact_token_text_is_known() -> None:
    verified = VerifiedTokens(clock=Clock())
    verified.remember("header.payload.signature", "alice", expires_at=2_000_000)
    assert verified.subject("header.payload.signature") == "alice"
    assert verified.subject("header.payload.signaturE") is None
    assert verified.subject("header.payload.signature ") is None


def test_an_already_expired_token_is_never_remembered() -> None:
    clock = Clock()
    verified = VerifiedTokens(clock=clock)
    verified.remember("token", "alice", expires_at=clock.now - 1)
    assert verified.subject("token") is None


def test_beyond_max_entries_the_oldest_is_forgotten() -> None:
    verified = VerifiedTokens(max_entries=3, clock=Clock())
    for number in range(4):
        verified.remember(f"token-{number}", f"user-{number}", expires_at=2_000_000)
    assert verified.subject("token-0") is None
    assert [verified.subject(f"token-{number}") for number in (1, 2, 3)] == ["user-1", "user-2", "user-3"]
