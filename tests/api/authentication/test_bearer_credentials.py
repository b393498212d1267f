"""What is not a bearer credential, in either mode: no Authorization, another scheme, an empty or
malformed token, a valid token's text spelled otherwise, a header past the size bound.

Every refusal is a 401 problem with a `WWW-Authenticate: Bearer` challenge (tests/api/authentication/conftest.py
has the servers and issuers).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.support import forge
from tests.support.contract import Operation, operation, operations_with
from tests.support.issuers import Issuer
from tests.support.problems import assert_unauthorized
from tests.support.tokens import bearer

LIST = operation("listTasks")
# Every operation of a user's (every one that takes a bearer token), from the spec.
every_operation = pytest.mark.parametrize("operation", operations_with("user_id"), ids=str)


# --- credentials that are not a bearer token, on every operation -------------------------------


@every_operation
def test_a_request_without_authorization_is_401(any_server: httpx.Client, operation: Operation, user: str) -> None:
    assert_unauthorized(operation.send(any_server, user, {}))


@every_operation
def test_a_non_bearer_scheme_is_401(any_server: httpx.Client, operation: Operation, user: str) -> None:
    assert_unauthorized(operation.send(any_server, user, {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}))


@every_operation
def test_an_empty_bearer_token_is_401(any_server: httpx.Client, operation: Operation, user: str) -> None:
    # "Bearer " with its trailing space is what a client sends; HTTP strips trailing whitespace.
    assert_unauthorized(operation.send(any_server, user, {"Authorization": "Bearer"}))


@every_operation
def test_a_malformed_bearer_token_is_401(any_server: httpx.Client, operation: Operation, user: str) -> None:
    assert_unauthorized(operation.send(any_server, user, bearer("not-a-jwt")))


@pytest.mark.parametrize(
    "token",
    [
        "a.b",
        "a.b.c",
        "a.b.c.d.e",
        "..",
        "....",
        forge.b64url_json({"alg": "HS256"}),
        f"{forge.b64url(b'not json')}.{forge.b64url_json({'sub': 'x'})}.c2ln",
        f"{forge.b64url_json(['alg', 'HS256'])}.{forge.b64url_json({'sub': 'x'})}.c2ln",
        f"{forge.b64url_json({'alg': 'HS256'})}.{forge.b64url(b'not json')}.c2ln",
        f"{forge.b64url_json({'alg': 'HS256'})}.{forge.b64url_json(['sub', 'x'])}.c2ln",
        "Bearer",
        "%%%.%%%.%%%",
        "x" * 4000,
    ],
    ids=[
        "two-segments",
        "three-garbage-segments",
        "five-segments",
        "empty-segments",
        "only-dots",
        "header-only",
        "header-not-json",
        "header-a-json-array",
        "payload-not-json",
        "payload-a-json-array",
        "the-word-bearer",
        "not-base64",
        "long-garbage",
    ],
)
def test_malformed_tokens_of_any_shape_are_401(any_server: httpx.Client, token: str, user: str) -> None:
    assert_unauthorized(LIST.send(any_server, user, bearer(token)))


# --- the token's text: only the canonical compact JWS of a valid token -------------------------
# The header and payload are signed as text, but python-jose decodes the signature leniently: each
# "signature" variant below decodes to the valid signature's bytes. Each is sent after the valid token
# was accepted (and remembered), so neither the verdict nor the memory can be reused for it.

BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def padded(segment: str) -> str:
    return segment + ("=" * (-len(segment) % 4) or "==")


def with_unused_bits_set(segment: str) -> str:
    assert len(segment) % 4, segment  # the last character has unused low bits
    return segment[:-1] + BASE64URL_ALPHABET[BASE64URL_ALPHABET.index(segment[-1]) | 1]


def with_plus_and_slash(segment: str) -> str:
    assert "-" in segment or "_" in segment, segment
    return segment.replace("-", "+").replace("_", "/")


TEXT_VARIANTS: dict[str, Callable[[str, str, str], str]] = {
    "signature-then-junk": lambda h, p, s: f"{h}.{p}.{s}!!!!",
    "signature-with-junk-inside": lambda h, p, s: f"{h}.{p}.{s[:8]}!$*~{s[8:]}",
    "signature-padded": lambda h, p, s: f"{h}.{p}.{padded(s)}",
    "signature-with-plus-and-slash": lambda h, p, s: f"{h}.{p}.{with_plus_and_slash(s)}",
    "signature-with-unused-bits-set": lambda h, p, s: f"{h}.{p}.{with_unused_bits_set(s)}",
    # Over the token's 8 KiB bound, within the head's 16 KiB (a megabyte is 431 before auth: test_framing.py).
    "signature-then-12-KiB-of-junk": lambda h, p, s: f"{h}.{p}.{s}" + "~" * 12 * 1024,
    "header-padded": lambda h, p, s: f"{padded(h)}.{p}.{s}",
    "four-segments": lambda h, p, s: f"{h}.{p}.{s}.{s}",
    "empty-payload": lambda h, p, s: f"{h}..{s}",
}


def token_with_dash_or_underscore_in_signature(issuer: Issuer, user: str) -> str:
    """A valid token whose signature has `-` or `_` somewhere, so that `+`/`/` can stand in for them."""
    for attempt in range(100):
        token = issuer.token(user, jti=str(attempt))
        if "-" in forge.parts(token)[2] or "_" in forge.parts(token)[2]:
            return token
    raise AssertionError("no signature with - or _ in 100 attempts")


@pytest.mark.parametrize("variant", TEXT_VARIANTS.keys())
def test_a_valid_tokens_text_in_another_spelling_is_401(issuer: Issuer, user: str, variant: str) -> None:
    token = token_with_dash_or_underscore_in_signature(issuer, user)
    assert LIST.send(issuer.http, user, bearer(token)).status_code == 200
    spelled = TEXT_VARIANTS[variant](*forge.parts(token))
    assert spelled != token
    assert_unauthorized(LIST.send(issuer.http, user, bearer(spelled)))


def test_a_validly_signed_token_over_the_size_bound_is_401(issuer: Issuer, user: str) -> None:
    token = issuer.token(user, padding="x" * 6200)  # about 8.5 KiB once base64url-encoded
    assert len(token) > 8192
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


def test_a_validly_signed_token_of_7_kib_is_accepted(issuer: Issuer, user: str) -> None:
    token = issuer.token(user, padding="x" * 5200)
    assert 7000 < len(token) < 8000
    assert LIST.send(issuer.http, user, bearer(token)).status_code == 200


def test_an_authorization_header_over_8_kib_is_401_unread(any_server: httpx.Client, user: str) -> None:
    response = LIST.send(any_server, user, {"Authorization": "Bearer " + "A" * 9000})
    assert_unauthorized(response)
    assert "longer than 8192 bytes" in response.json()["detail"]


def test_the_bearer_scheme_is_case_insensitive(issuer: Issuer, user: str) -> None:
    response = LIST.send(issuer.http, user, {"Authorization": f"bearer {issuer.token(user)}"})
    assert response.status_code == 200, response.text
