"""Bearer tokens from every issuer the service can trust (the shared secret's HS256; RS256, ES256 and
EdDSA keys from a JWKS endpoint): a valid token is accepted on its own user's paths only, and a token
whose signature, header or claims are not right is a 401.

Every forged token is sent on the path of the user it claims to be, so that accepting it would answer
200 rather than 403.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support import forge
from tests.support.contract import Operation, operation, operations_with
from tests.support.issuers import Issuer
from tests.support.jwks import JwksServer, Keys, SigningKey
from tests.support.problems import assert_problem, assert_unauthorized
from tests.support.tokens import AUDIENCE, OTHER_AUDIENCES, bearer, claims_for
from tests.support.users import new_user_id
from tests.support.waiting import wait_until

LIST = operation("listTasks")
# How long past a token's exp the service may go on accepting it: python-jose compares whole seconds.
EXPIRY_SECONDS = 5.0
# Every operation of a user's (every one that takes a bearer token), from the spec.
every_operation = pytest.mark.parametrize("operation", operations_with("user_id"), ids=str)


# --- valid tokens: accepted, and only on their own user's paths --------------------------------


def test_a_valid_token_is_accepted(issuer: Issuer, user: str) -> None:
    response = LIST.send(issuer.http, user, bearer(issuer.token(user)))
    assert response.status_code == 200, response.text


def test_a_valid_token_works_on_every_operation(issuer: Issuer, user: str) -> None:
    headers = bearer(issuer.token(user))
    create = operation("createTask").send(issuer.http, user, headers)
    assert create.status_code == 201, create.text
    task_id = create.json()["id"]
    # The one that deletes the task last.
    for sent in sorted(operations_with("user_id"), key=lambda candidate: candidate.method == "DELETE"):
        response = sent.send(issuer.http, user, headers, task_id)
        assert response.status_code < 300, (str(sent), response.text)


def test_a_token_with_an_audience_list_naming_this_service_is_accepted(issuer: Issuer, user: str) -> None:
    token = issuer.token(user, aud=["https://another.example", AUDIENCE])
    assert LIST.send(issuer.http, user, bearer(token)).status_code == 200


@every_operation
def test_a_valid_token_on_another_users_path_is_403(issuer: Issuer, operation: Operation) -> None:
    owner, other = new_user_id(), new_user_id()
    response = operation.send(issuer.http, other, bearer(issuer.token(owner)))
    assert_problem(response, 403)


# --- signatures --------------------------------------------------------------------------------


def test_a_token_with_a_wrong_signature_is_401(issuer: Issuer, user: str) -> None:
    token = issuer.impostor().token(user)  # same alg and kid, another key
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


@pytest.mark.parametrize("keep_last_dot", [True, False], ids=["header.payload.", "header.payload"])
def test_a_token_with_its_signature_stripped_is_401(issuer: Issuer, user: str, keep_last_dot: bool) -> None:
    header, payload, _ = forge.parts(issuer.token(user))
    token = f"{header}.{payload}." if keep_last_dot else f"{header}.{payload}"
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


def test_a_token_with_a_null_signature_is_401(issuer: Issuer, user: str) -> None:
    token = issuer.token(user)
    length = len(forge.b64url_decode(forge.parts(token)[2]))
    assert_unauthorized(LIST.send(issuer.http, user, bearer(forge.with_signature(token, forge.b64url(bytes(length))))))


def test_a_token_with_a_changed_payload_is_401(issuer: Issuer) -> None:
    alice, bob = new_user_id(), new_user_id()
    token = forge.with_claims(issuer.token(alice), sub=bob)  # bob's payload under alice's signature
    assert_unauthorized(LIST.send(issuer.http, bob, bearer(token)))


def test_a_token_with_a_prolonged_expiry_is_401(issuer: Issuer, user: str) -> None:
    token = forge.with_claims(issuer.token(user, exp=int(time.time()) - 60), exp=int(time.time()) + 3600)
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_in_any_spelling_is_401(issuer: Issuer, user: str, alg: str) -> None:
    token = forge.unsigned({**issuer.header, "alg": alg}, claims_for(user))
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


@pytest.mark.parametrize("alg", ["none", "NONE"])
def test_alg_none_keeping_a_valid_signature_is_401(issuer: Issuer, user: str, alg: str) -> None:
    token = issuer.token(user, header={"alg": alg})  # signed by the real key, but claims to be unsigned
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


def test_a_token_without_alg_is_401(issuer: Issuer, user: str) -> None:
    assert_unauthorized(LIST.send(issuer.http, user, bearer(issuer.token(user, header={"alg": None}))))


@pytest.mark.parametrize("name", ["jwk", "x5c"])
def test_a_token_carrying_its_own_key_is_401(issuer: Issuer, user: str, name: str) -> None:
    impostor = issuer.impostor()
    value: Any = impostor.public_jwk if name == "jwk" else [forge.b64url(json.dumps(impostor.public_jwk).encode())]
    token = impostor.token(user, header={name: value})
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


@pytest.mark.parametrize("name", ["jku", "x5u"])
def test_a_token_naming_a_remote_key_url_is_401_and_the_url_is_never_fetched(
    issuer: Issuer, jwks: JwksServer, keys: Keys, user: str, name: str
) -> None:
    attacker_path = f"/attacker/{name}/{user}.json"
    impostor_key = SigningKey.rsa()
    jwks.serve(attacker_path, [impostor_key])
    header = {"alg": "RS256", "typ": "JWT", "kid": impostor_key.kid, name: jwks.url_for(attacker_path)}
    token = forge.encode(header, claims_for(user), impostor_key.sign)
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))
    # The same header on a token of the issuer's own kind, signed by an impostor.
    assert_unauthorized(
        LIST.send(issuer.http, user, bearer(issuer.impostor().token(user, header={name: header[name]})))
    )
    assert jwks.fetches(attacker_path) == 0


def test_a_token_with_critical_header_extensions_is_401(issuer: Issuer, user: str) -> None:
    token = issuer.token(user, header={"crit": ["urn:example:must-understand"], "urn:example:must-understand": True})
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


# --- claims ------------------------------------------------------------------------------------


def test_an_expired_token_is_401(issuer: Issuer, user: str) -> None:
    now = int(time.time())
    token = issuer.token(user, iat=now - 3600, exp=now - 60)
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


def test_a_token_accepted_before_is_401_once_it_has_expired(issuer: Issuer, user: str) -> None:
    # The server remembers tokens it verified (impl/auth/verified_tokens.py), but never past their exp.
    expires_at = int(time.time()) + 1
    token = issuer.token(user, exp=expires_at)
    assert LIST.send(issuer.http, user, bearer(token)).status_code == 200
    assert LIST.send(issuer.http, user, bearer(token)).status_code == 200
    answers: list[tuple[float, httpx.Response]] = []

    def refused() -> bool:
        answers.append((time.time(), LIST.send(issuer.http, user, bearer(token))))
        return answers[-1][1].status_code != 200

    assert wait_until(refused, seconds=EXPIRY_SECONDS, interval=0.1), "still accepted long after its exp"
    answered_at, response = answers[-1]
    assert_unauthorized(response)
    assert answered_at >= expires_at, "accepted until its exp, not refused before it"


def test_a_token_not_valid_yet_is_401(issuer: Issuer, user: str) -> None:
    token = issuer.token(user, nbf=int(time.time()) + 300)
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


def test_a_token_without_exp_is_401(issuer: Issuer, user: str) -> None:
    assert_unauthorized(LIST.send(issuer.http, user, bearer(issuer.token(user, exp=None))))


MALFORMED_TIMES = {"string": "tomorrow", "infinite": 1e400, "list": [1], "object": {"at": 1}, "null": None}


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", MALFORMED_TIMES.values(), ids=MALFORMED_TIMES.keys())
def test_a_token_with_a_non_numeric_time_claim_is_401(issuer: Issuer, user: str, claim: str, value: Any) -> None:
    claims = {**claims_for(user), claim: value}  # validly signed: only the claim's type is wrong
    token = forge.encode(issuer.header, claims, issuer.sign)
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


def valid_time(claim: str) -> int:
    """A value of the claim that passes as a number: exp ahead, nbf and iat behind."""
    now = int(time.time())
    return now + 600 if claim == "exp" else now - 60


# RFC 7519 section 4.1.4: a NumericDate is a JSON number. These hold a valid time in another JSON type.
NUMBERS_IN_DISGUISE: dict[str, Callable[[int], Any]] = {
    "decimal-string": str,
    "true": lambda _: True,
}


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("disguise", NUMBERS_IN_DISGUISE.values(), ids=NUMBERS_IN_DISGUISE.keys())
def test_a_token_whose_time_claim_is_a_number_in_another_json_type_is_401(
    issuer: Issuer, user: str, claim: str, disguise: Callable[[int], Any]
) -> None:
    claims = {**claims_for(user), claim: disguise(valid_time(claim))}  # validly signed: only the type is wrong
    response = LIST.send(issuer.http, user, bearer(forge.encode(issuer.header, claims, issuer.sign)))
    assert_unauthorized(response)
    assert claim in response.json()["detail"]


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_a_time_claim_with_a_fraction_is_a_number_and_accepted(issuer: Issuer, user: str, claim: str) -> None:
    token = issuer.token(user, **{claim: valid_time(claim) + 0.5})
    assert LIST.send(issuer.http, user, bearer(token)).status_code == 200


def test_a_token_with_deeply_nested_claims_is_401(issuer: Issuer, user: str) -> None:
    depth = 2000  # past Python's recursion limit for json.loads, within the 8 KiB bound on a token
    claims = forge.b64url(json.dumps(claims_for(user))[:-1].encode() + b', "x": ' + b"[" * depth + b"]" * depth + b"}")
    signing_input = f"{forge.b64url_json(issuer.header)}.{claims}"
    token = f"{signing_input}.{forge.b64url(issuer.sign(signing_input.encode()))}"
    assert len(token) < 8000
    response = LIST.send(issuer.http, user, bearer(token))
    assert_unauthorized(response)
    assert "malformed claims" in response.json()["detail"]


def test_a_token_without_sub_is_401(issuer: Issuer, user: str) -> None:
    claims = {name: value for name, value in claims_for(user).items() if name != "sub"}
    token = forge.encode(issuer.header, claims, issuer.sign)
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


@pytest.mark.parametrize("sub", ["", 42, ["user"]], ids=["empty", "number", "list"])
def test_a_token_with_an_unusable_sub_is_401(issuer: Issuer, user: str, sub: Any) -> None:
    claims = {**claims_for(user), "sub": sub}
    token = forge.encode(issuer.header, claims, issuer.sign)
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


def test_a_token_from_another_issuer_is_401(issuer: Issuer, user: str) -> None:
    token = issuer.token(user, iss="https://evil.example")
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


def test_a_token_without_iss_is_401(issuer: Issuer, user: str) -> None:
    assert_unauthorized(LIST.send(issuer.http, user, bearer(issuer.token(user, iss=None))))


@pytest.mark.parametrize("aud", OTHER_AUDIENCES.values(), ids=OTHER_AUDIENCES.keys())
def test_a_token_for_another_audience_is_401(issuer: Issuer, user: str, aud: Any) -> None:
    token = issuer.token(user, aud=aud)
    assert_unauthorized(LIST.send(issuer.http, user, bearer(token)))


def test_a_token_without_aud_is_401_when_an_audience_is_configured(issuer: Issuer, user: str) -> None:
    assert_unauthorized(LIST.send(issuer.http, user, bearer(issuer.token(user, aud=None))))
