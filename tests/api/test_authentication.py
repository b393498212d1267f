"""Bearer authentication, against real server processes in both modes.

- shared secret: the session `server` (HS256 with JWT_SECRET, iss and aud configured);
- JWKS: a module server whose keys (RS256, ES256, EdDSA) come from a local JWKS endpoint; the real
  Better Auth's tokens are in test_better_auth.py.

Every rejected request must be 401 with a `WWW-Authenticate: Bearer ...` challenge and a problem
document; every forged token is sent on the path of the user it claims to be, so that accepting it
would answer 200 rather than 403.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from devtools import token as devtools_token
from devtools.live_server import LiveServer
from impl.settings import Settings
from tests.support import forge
from tests.support.environments import REPORTS, jwks_env, shared_secret_env
from tests.support.jwks import JwksServer, Outage, SigningKey
from tests.support.problems import assert_problem
from tests.support.tokens import AUDIENCE, ISSUER, SHARED_SECRET, bearer, claims_for, shared_secret_token
from tests.support.users import new_user_id

HANG_GUARD_SECONDS = 10.0
JWKS_TIMEOUT_SECONDS = 1


# --- the operations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    template: str
    body: dict[str, Any] | None = None

    def path(self, user_id: str, task_id: int = 1) -> str:
        return self.template.format(user_id=user_id, task_id=task_id)

    def call(self, http: httpx.Client, user_id: str, headers: dict[str, str], task_id: int = 1) -> httpx.Response:
        return http.request(self.method, self.path(user_id, task_id), headers=headers, json=self.body)


OPERATIONS = [
    Operation("listTasks", "GET", "/api/{user_id}/tasks"),
    Operation("createTask", "POST", "/api/{user_id}/tasks", {"title": "Buy milk"}),
    Operation("getTask", "GET", "/api/{user_id}/tasks/{task_id}"),
    Operation("replaceTask", "PUT", "/api/{user_id}/tasks/{task_id}", {"title": "Buy oat milk"}),
    Operation("updateTask", "PATCH", "/api/{user_id}/tasks/{task_id}", {}),
    Operation("deleteTask", "DELETE", "/api/{user_id}/tasks/{task_id}"),
    Operation("toggleTaskCompletion", "PATCH", "/api/{user_id}/tasks/{task_id}/complete"),
]
LIST = OPERATIONS[0]
every_operation = pytest.mark.parametrize("operation", OPERATIONS, ids=[op.name for op in OPERATIONS])


def assert_unauthorized(response: httpx.Response) -> None:
    assert_problem(response, 401)
    assert response.headers.get("www-authenticate", "").startswith("Bearer"), response.headers


# --- the JWKS-mode server ----------------------------------------------------------------------


@dataclass
class Keys:
    rsa: SigningKey = field(default_factory=lambda: SigningKey.rsa("rsa-main"))
    ec: SigningKey = field(default_factory=lambda: SigningKey.ec("ec-main"))
    ed: SigningKey = field(default_factory=lambda: SigningKey.ed25519("ed-main"))


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def jwks(keys: Keys) -> Iterator[JwksServer]:
    endpoint = JwksServer([keys.rsa, keys.ec, keys.ed])
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="module")
def jwks_server(database_url: str, jwks: JwksServer) -> Iterator[LiveServer]:
    env = {
        "DATABASE_URL": database_url,
        **jwks_env(jwks.url),
        "JWKS_TIMEOUT": str(JWKS_TIMEOUT_SECONDS),
        "JWKS_CACHE_SECONDS": "600",
        "JWKS_REFETCH_INTERVAL": "0",
    }
    live = LiveServer(env, log_path=REPORTS / "server-jwks.log")
    yield live
    live.stop()


@pytest.fixture(scope="module")
def jwks_http(jwks_server: LiveServer, keys: Keys) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=jwks_server.url, timeout=30) as client:
        user = new_user_id()
        warm_up = client.get(LIST.path(user), headers=bearer(keys.rsa.token(claims_for(user))))
        assert warm_up.status_code == 200, warm_up.text  # the keys are cached from here on
        yield client


# --- the identity providers a test can be run against ------------------------------------------


@dataclass(frozen=True)
class Issuer:
    """Mints tokens the way one configuration's identity provider does, for the server that trusts it."""

    name: str
    http: httpx.Client
    header: dict[str, Any]
    sign: forge.Signer
    public_jwk: dict[str, Any]
    impostor: Callable[[], Issuer]

    def token(self, sub: str, *, header: dict[str, Any] | None = None, **claims: Any) -> str:
        return forge.encode(forge.without_none({**self.header, **(header or {})}), claims_for(sub, **claims), self.sign)


def shared_secret_issuer(http: httpx.Client, secret: bytes) -> Issuer:
    return Issuer(
        name="HS256",
        http=http,
        header={"alg": "HS256", "typ": "JWT"},
        sign=forge.hs256(secret),
        public_jwk={"kty": "oct", "k": forge.b64url(secret)},
        impostor=lambda: shared_secret_issuer(http, b"another secret of thirty-two bytes or more"),
    )


def jwks_issuer(http: httpx.Client, key: SigningKey) -> Issuer:
    return Issuer(
        name=key.alg,
        http=http,
        header={"alg": key.alg, "typ": "JWT", "kid": key.kid},
        sign=key.sign,
        public_jwk=key.public_jwk,
        impostor=lambda: jwks_issuer(http, SigningKey.like(key)),
    )


@pytest.fixture(params=["HS256-shared-secret", "RS256-jwks", "ES256-jwks", "EdDSA-jwks"])
def issuer(request: pytest.FixtureRequest) -> Issuer:
    if request.param == "HS256-shared-secret":
        return shared_secret_issuer(request.getfixturevalue("http"), SHARED_SECRET.encode())
    http = request.getfixturevalue("jwks_http")
    keys: Keys = request.getfixturevalue("keys")
    return jwks_issuer(http, {"RS256-jwks": keys.rsa, "ES256-jwks": keys.ec, "EdDSA-jwks": keys.ed}[request.param])


@pytest.fixture(params=["shared-secret", "jwks"])
def any_server(request: pytest.FixtureRequest) -> httpx.Client:
    client: httpx.Client = request.getfixturevalue("http" if request.param == "shared-secret" else "jwks_http")
    return client


@pytest.fixture
def user() -> str:
    return new_user_id()


# --- credentials that are not a bearer token, on every operation -------------------------------


@every_operation
def test_a_request_without_authorization_is_401(any_server: httpx.Client, operation: Operation, user: str) -> None:
    assert_unauthorized(operation.call(any_server, user, {}))


@every_operation
def test_a_non_bearer_scheme_is_401(any_server: httpx.Client, operation: Operation, user: str) -> None:
    assert_unauthorized(operation.call(any_server, user, {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}))


@every_operation
def test_an_empty_bearer_token_is_401(any_server: httpx.Client, operation: Operation, user: str) -> None:
    # "Bearer " with its trailing space is what a client sends; HTTP strips trailing whitespace.
    assert_unauthorized(operation.call(any_server, user, {"Authorization": "Bearer"}))


@every_operation
def test_a_malformed_bearer_token_is_401(any_server: httpx.Client, operation: Operation, user: str) -> None:
    assert_unauthorized(operation.call(any_server, user, bearer("not-a-jwt")))


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
    assert_unauthorized(LIST.call(any_server, user, bearer(token)))


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
    assert LIST.call(issuer.http, user, bearer(token)).status_code == 200
    spelled = TEXT_VARIANTS[variant](*forge.parts(token))
    assert spelled != token
    assert_unauthorized(LIST.call(issuer.http, user, bearer(spelled)))


def test_a_validly_signed_token_over_the_size_bound_is_401(issuer: Issuer, user: str) -> None:
    token = issuer.token(user, padding="x" * 6200)  # about 8.5 KiB once base64url-encoded
    assert len(token) > 8192
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


def test_a_validly_signed_token_of_7_kib_is_accepted(issuer: Issuer, user: str) -> None:
    token = issuer.token(user, padding="x" * 5200)
    assert 7000 < len(token) < 8000
    assert LIST.call(issuer.http, user, bearer(token)).status_code == 200


def test_an_authorization_header_over_8_kib_is_401_unread(any_server: httpx.Client, user: str) -> None:
    response = LIST.call(any_server, user, {"Authorization": "Bearer " + "A" * 9000})
    assert_unauthorized(response)
    assert "longer than 8192 bytes" in response.json()["detail"]


def test_the_bearer_scheme_is_case_insensitive(issuer: Issuer, user: str) -> None:
    response = LIST.call(issuer.http, user, {"Authorization": f"bearer {issuer.token(user)}"})
    assert response.status_code == 200, response.text


# --- valid tokens: accepted, and only on their own user's paths --------------------------------


def test_a_valid_token_is_accepted(issuer: Issuer, user: str) -> None:
    response = LIST.call(issuer.http, user, bearer(issuer.token(user)))
    assert response.status_code == 200, response.text


def test_a_valid_token_works_on_every_operation(issuer: Issuer, user: str) -> None:
    headers = bearer(issuer.token(user))
    create = OPERATIONS[1].call(issuer.http, user, headers)
    assert create.status_code == 201, create.text
    task_id = create.json()["id"]
    delete = next(op for op in OPERATIONS if op.method == "DELETE")
    for operation in [*(op for op in OPERATIONS if op is not delete), delete]:
        response = operation.call(issuer.http, user, headers, task_id)
        assert response.status_code < 300, (operation.name, response.text)


def test_a_token_with_an_audience_list_naming_this_service_is_accepted(issuer: Issuer, user: str) -> None:
    token = issuer.token(user, aud=["https://another.example", AUDIENCE])
    assert LIST.call(issuer.http, user, bearer(token)).status_code == 200


@every_operation
def test_a_valid_token_on_another_users_path_is_403(issuer: Issuer, operation: Operation) -> None:
    owner, other = new_user_id(), new_user_id()
    response = operation.call(issuer.http, other, bearer(issuer.token(owner)))
    assert_problem(response, 403)


# --- signatures --------------------------------------------------------------------------------


def test_a_token_with_a_wrong_signature_is_401(issuer: Issuer, user: str) -> None:
    token = issuer.impostor().token(user)  # same alg and kid, another key
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


@pytest.mark.parametrize("keep_last_dot", [True, False], ids=["header.payload.", "header.payload"])
def test_a_token_with_its_signature_stripped_is_401(issuer: Issuer, user: str, keep_last_dot: bool) -> None:
    header, payload, _ = forge.parts(issuer.token(user))
    token = f"{header}.{payload}." if keep_last_dot else f"{header}.{payload}"
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


def test_a_token_with_a_null_signature_is_401(issuer: Issuer, user: str) -> None:
    token = issuer.token(user)
    length = len(forge.b64url_decode(forge.parts(token)[2]))
    assert_unauthorized(LIST.call(issuer.http, user, bearer(forge.with_signature(token, forge.b64url(bytes(length))))))


def test_a_token_with_a_changed_payload_is_401(issuer: Issuer) -> None:
    alice, bob = new_user_id(), new_user_id()
    token = forge.with_claims(issuer.token(alice), sub=bob)  # bob's payload under alice's signature
    assert_unauthorized(LIST.call(issuer.http, bob, bearer(token)))


def test_a_token_with_a_prolonged_expiry_is_401(issuer: Issuer, user: str) -> None:
    token = forge.with_claims(issuer.token(user, exp=int(time.time()) - 60), exp=int(time.time()) + 3600)
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_in_any_spelling_is_401(issuer: Issuer, user: str, alg: str) -> None:
    token = forge.unsigned({**issuer.header, "alg": alg}, claims_for(user))
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


@pytest.mark.parametrize("alg", ["none", "NONE"])
def test_alg_none_keeping_a_valid_signature_is_401(issuer: Issuer, user: str, alg: str) -> None:
    token = issuer.token(user, header={"alg": alg})  # signed by the real key, but claims to be unsigned
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


def test_a_token_without_alg_is_401(issuer: Issuer, user: str) -> None:
    assert_unauthorized(LIST.call(issuer.http, user, bearer(issuer.token(user, header={"alg": None}))))


@pytest.mark.parametrize("name", ["jwk", "x5c"])
def test_a_token_carrying_its_own_key_is_401(issuer: Issuer, user: str, name: str) -> None:
    impostor = issuer.impostor()
    value: Any = impostor.public_jwk if name == "jwk" else [forge.b64url(json.dumps(impostor.public_jwk).encode())]
    token = impostor.token(user, header={name: value})
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


@pytest.mark.parametrize("name", ["jku", "x5u"])
def test_a_token_naming_a_remote_key_url_is_401_and_the_url_is_never_fetched(
    issuer: Issuer, jwks: JwksServer, keys: Keys, user: str, name: str
) -> None:
    attacker_path = f"/attacker/{name}/{user}.json"
    impostor_key = SigningKey.rsa()
    jwks.serve(attacker_path, [impostor_key])
    header = {"alg": "RS256", "typ": "JWT", "kid": impostor_key.kid, name: jwks.url_for(attacker_path)}
    token = forge.encode(header, claims_for(user), impostor_key.sign)
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))
    # The same header on a token of the issuer's own kind, signed by an impostor.
    assert_unauthorized(
        LIST.call(issuer.http, user, bearer(issuer.impostor().token(user, header={name: header[name]})))
    )
    assert jwks.fetches(attacker_path) == 0


def test_a_token_with_critical_header_extensions_is_401(issuer: Issuer, user: str) -> None:
    token = issuer.token(user, header={"crit": ["urn:example:must-understand"], "urn:example:must-understand": True})
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


# --- claims ------------------------------------------------------------------------------------


def test_an_expired_token_is_401(issuer: Issuer, user: str) -> None:
    now = int(time.time())
    token = issuer.token(user, iat=now - 3600, exp=now - 60)
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


def test_a_token_accepted_before_is_401_once_it_has_expired(issuer: Issuer, user: str) -> None:
    # The server remembers tokens it verified (impl/auth/verified_tokens.py), but never past their exp.
    expires_at = int(time.time()) + 1
    token = issuer.token(user, exp=expires_at)
    assert LIST.call(issuer.http, user, bearer(token)).status_code == 200
    assert LIST.call(issuer.http, user, bearer(token)).status_code == 200
    time.sleep(max(0.0, expires_at + 1.05 - time.time()))  # python-jose compares whole seconds
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


def test_a_token_not_valid_yet_is_401(issuer: Issuer, user: str) -> None:
    token = issuer.token(user, nbf=int(time.time()) + 300)
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


def test_a_token_without_exp_is_401(issuer: Issuer, user: str) -> None:
    assert_unauthorized(LIST.call(issuer.http, user, bearer(issuer.token(user, exp=None))))


MALFORMED_TIMES = {"string": "tomorrow", "infinite": 1e400, "list": [1], "object": {"at": 1}, "null": None}


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", MALFORMED_TIMES.values(), ids=MALFORMED_TIMES.keys())
def test_a_token_with_a_non_numeric_time_claim_is_401(issuer: Issuer, user: str, claim: str, value: Any) -> None:
    claims = {**claims_for(user), claim: value}  # validly signed: only the claim's type is wrong
    token = forge.encode(issuer.header, claims, issuer.sign)
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


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
    response = LIST.call(issuer.http, user, bearer(forge.encode(issuer.header, claims, issuer.sign)))
    assert_unauthorized(response)
    assert claim in response.json()["detail"]


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_a_time_claim_with_a_fraction_is_a_number_and_accepted(issuer: Issuer, user: str, claim: str) -> None:
    token = issuer.token(user, **{claim: valid_time(claim) + 0.5})
    assert LIST.call(issuer.http, user, bearer(token)).status_code == 200


def test_a_token_with_deeply_nested_claims_is_401(issuer: Issuer, user: str) -> None:
    depth = 2000  # past Python's recursion limit for json.loads, within the 8 KiB bound on a token
    claims = forge.b64url(json.dumps(claims_for(user))[:-1].encode() + b', "x": ' + b"[" * depth + b"]" * depth + b"}")
    signing_input = f"{forge.b64url_json(issuer.header)}.{claims}"
    token = f"{signing_input}.{forge.b64url(issuer.sign(signing_input.encode()))}"
    assert len(token) < 8000
    response = LIST.call(issuer.http, user, bearer(token))
    assert_unauthorized(response)
    assert "malformed claims" in response.json()["detail"]


def test_a_token_without_sub_is_401(issuer: Issuer, user: str) -> None:
    claims = {name: value for name, value in claims_for(user).items() if name != "sub"}
    token = forge.encode(issuer.header, claims, issuer.sign)
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


@pytest.mark.parametrize("sub", ["", 42, ["user"]], ids=["empty", "number", "list"])
def test_a_token_with_an_unusable_sub_is_401(issuer: Issuer, user: str, sub: Any) -> None:
    claims = {**claims_for(user), "sub": sub}
    token = forge.encode(issuer.header, claims, issuer.sign)
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


def test_a_token_from_another_issuer_is_401(issuer: Issuer, user: str) -> None:
    token = issuer.token(user, iss="https://evil.example")
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


def test_a_token_without_iss_is_401(issuer: Issuer, user: str) -> None:
    assert_unauthorized(LIST.call(issuer.http, user, bearer(issuer.token(user, iss=None))))


OTHER_AUDIENCES = {"another-api": "another-api", "a-list-without-us": ["another-api", ISSUER], "an-empty-list": []}


@pytest.mark.parametrize("aud", OTHER_AUDIENCES.values(), ids=OTHER_AUDIENCES.keys())
def test_a_token_for_another_audience_is_401(issuer: Issuer, user: str, aud: Any) -> None:
    token = issuer.token(user, aud=aud)
    assert_unauthorized(LIST.call(issuer.http, user, bearer(token)))


def test_a_token_without_aud_is_401_when_an_audience_is_configured(issuer: Issuer, user: str) -> None:
    assert_unauthorized(LIST.call(issuer.http, user, bearer(issuer.token(user, aud=None))))


# --- shared-secret mode only -------------------------------------------------------------------


@pytest.fixture(scope="module")
def unconfigured_audience_http(database_url: str) -> Iterator[httpx.Client]:
    """Shared-secret mode as `make run` starts it by default: no JWT_ISSUER, no JWT_AUDIENCE."""
    env = {**shared_secret_env(database_url), "JWT_ISSUER": "", "JWT_AUDIENCE": ""}
    live = LiveServer(env, log_path=REPORTS / "server-no-audience.log")
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client
    live.stop()


def test_without_a_configured_audience_a_token_without_aud_is_accepted(
    unconfigured_audience_http: httpx.Client, user: str
) -> None:
    token = shared_secret_token(user, iss=None, aud=None)
    assert LIST.call(unconfigured_audience_http, user, bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "aud", [*OTHER_AUDIENCES.values(), AUDIENCE], ids=[*OTHER_AUDIENCES.keys(), "an-audience-never-configured"]
)
def test_without_a_configured_audience_a_token_naming_any_audience_is_401(
    unconfigured_audience_http: httpx.Client, user: str, aud: Any
) -> None:
    # Such a token was minted for some other service (another API, an OAuth client's id_token).
    token = shared_secret_token(user, aud=aud)
    assert_unauthorized(LIST.call(unconfigured_audience_http, user, bearer(token)))


def test_make_token_mints_what_the_default_development_config_accepts(
    unconfigured_audience_http: httpx.Client, clean_env: pytest.MonkeyPatch, user: str
) -> None:
    clean_env.setenv("JWT_SECRET", SHARED_SECRET)
    token = devtools_token.mint(Settings(_env_file=None), user, minutes=5)
    assert LIST.call(unconfigured_audience_http, user, bearer(token)).status_code == 200


@pytest.mark.parametrize("secret", [b"", b"secret", b"changeme", b"your-secret-key"])
def test_a_token_signed_with_a_guessable_secret_is_401(http: httpx.Client, user: str, secret: bytes) -> None:
    token = forge.encode({"alg": "HS256", "typ": "JWT"}, claims_for(user), forge.hs256(secret))
    assert_unauthorized(LIST.call(http, user, bearer(token)))


def test_a_token_signed_as_rs256_is_401_in_shared_secret_mode(http: httpx.Client, keys: Keys, user: str) -> None:
    assert_unauthorized(LIST.call(http, user, bearer(keys.rsa.token(claims_for(user)))))


def test_a_rejected_request_changes_nothing(http: httpx.Client) -> None:
    owner = new_user_id()
    task = http.post(LIST.path(owner), json={"title": "Keep me"}, headers=bearer(shared_secret_token(owner)))
    assert task.status_code == 201, task.text
    forged = bearer(forge.unsigned({"alg": "none", "typ": "JWT"}, claims_for(owner)))
    for operation in OPERATIONS:
        assert_unauthorized(operation.call(http, owner, forged, task.json()["id"]))
    listing = http.get(LIST.path(owner), headers=bearer(shared_secret_token(owner)))
    assert listing.json()["items"] == [task.json()]


# --- JWKS mode only ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("published", "encoding"),
    [
        ("rsa", "pem"),
        ("rsa", "pem-without-newline"),
        ("rsa", "der"),
        ("rsa", "jwk-json"),
        ("ec", "pem"),
        ("ec", "der"),
        ("ec", "jwk-json"),
        ("ed", "pem"),
        ("ed", "der"),
        ("ed", "jwk-json"),
        ("ed", "raw"),
    ],
)
def test_hs256_signed_with_a_published_public_key_is_401(
    jwks_http: httpx.Client, keys: Keys, user: str, published: str, encoding: str
) -> None:
    key: SigningKey = getattr(keys, published)
    secret = {
        "pem": lambda: key.public_pem,
        "pem-without-newline": lambda: key.public_pem.rstrip(b"\n"),
        "der": lambda: key.public_der,
        "jwk-json": lambda: json.dumps(key.public_jwk).encode(),
        "raw": lambda: key.public_raw,
    }[encoding]()
    token = forge.encode({"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims_for(user), forge.hs256(secret))
    assert_unauthorized(LIST.call(jwks_http, user, bearer(token)))


def test_a_shared_secret_token_is_401_in_jwks_mode(jwks_http: httpx.Client, user: str) -> None:
    assert_unauthorized(LIST.call(jwks_http, user, bearer(shared_secret_token(user))))


@pytest.mark.parametrize("alg", ["ES256", "RS384", "PS256", "ES384", "EdDSA", "HS512"])
def test_an_alg_that_does_not_match_the_published_key_is_401(
    jwks_http: httpx.Client, keys: Keys, user: str, alg: str
) -> None:
    token = keys.rsa.token(claims_for(user), alg=alg)  # RSA key's kid, signed with it, but another alg named
    assert_unauthorized(LIST.call(jwks_http, user, bearer(token)))


@pytest.mark.parametrize("alg", ["RS256", "ES256", "Ed25519", "EdDSA256", "HS256"])
def test_an_alg_other_than_eddsa_under_an_ed25519_kid_is_401(
    jwks_http: httpx.Client, keys: Keys, user: str, alg: str
) -> None:
    token = keys.ed.token(claims_for(user), alg=alg)  # the Ed25519 key's kid and signature, another alg named
    assert_unauthorized(LIST.call(jwks_http, user, bearer(token)))


@pytest.mark.parametrize(("signer", "kid"), [("ec", "rsa"), ("ed", "rsa"), ("ed", "ec"), ("ec", "ed"), ("rsa", "ed")])
def test_a_signature_under_another_kind_of_keys_kid_is_401(
    jwks_http: httpx.Client, keys: Keys, user: str, signer: str, kid: str
) -> None:
    token = getattr(keys, signer).token(claims_for(user), kid=getattr(keys, kid).kid)  # its own alg, another kid
    assert_unauthorized(LIST.call(jwks_http, user, bearer(token)))


@pytest.mark.parametrize(
    "kid",
    ["", "   ", "../../etc/passwd", "/dev/null", "' OR 1=1 --", "x" * 300, 42, ["rsa-main"], None],
    ids=["blank", "spaces", "path-traversal", "dev-null", "sql", "overlong", "number", "list", "absent"],
)
def test_a_kid_trick_is_401(jwks_http: httpx.Client, keys: Keys, user: str, kid: Any) -> None:
    token = keys.rsa.token(claims_for(user), kid=kid)  # validly signed by a published key: only the kid is wrong
    assert_unauthorized(LIST.call(jwks_http, user, bearer(token)))


def test_an_unknown_kid_is_401_after_exactly_one_jwks_refetch(
    jwks_http: httpx.Client, jwks: JwksServer, user: str
) -> None:
    before = jwks.fetches()
    token = SigningKey.ec().token(claims_for(user))
    assert_unauthorized(LIST.call(jwks_http, user, bearer(token)))
    assert jwks.fetches() == before + 1


def test_a_cached_kid_is_not_fetched_again(jwks_http: httpx.Client, jwks: JwksServer, keys: Keys, user: str) -> None:
    before = jwks.fetches()
    for key in (keys.rsa, keys.ec, keys.ed, keys.rsa):
        assert LIST.call(jwks_http, user, bearer(key.token(claims_for(user)))).status_code == 200
    assert jwks.fetches() == before


@pytest.mark.parametrize("make", [SigningKey.rsa, SigningKey.ec, SigningKey.ed25519], ids=["RS256", "ES256", "EdDSA"])
def test_a_rotated_in_key_is_accepted_after_one_refetch(
    jwks_http: httpx.Client, jwks: JwksServer, user: str, make: Callable[[], SigningKey]
) -> None:
    new_key = make()
    jwks.publish(new_key)
    before = jwks.fetches()
    response = LIST.call(jwks_http, user, bearer(new_key.token(claims_for(user))))
    assert response.status_code == 200, response.text
    assert jwks.fetches() == before + 1


OUTAGES: list[Outage] = ["refused", "error", "not_json", "slow", "trickle"]


@pytest.mark.parametrize("outage", OUTAGES)
def test_an_unreachable_jwks_is_503_for_a_kid_not_cached_yet(
    jwks_http: httpx.Client, jwks: JwksServer, user: str, outage: Outage
) -> None:
    new_key = SigningKey.ec()
    jwks.publish(new_key)
    with jwks.outage(outage):
        started = time.monotonic()
        response = LIST.call(jwks_http, user, bearer(new_key.token(claims_for(user))))
        elapsed = time.monotonic() - started
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) >= 1
    assert elapsed < HANG_GUARD_SECONDS


@pytest.mark.parametrize("outage", OUTAGES)
def test_cached_keys_keep_working_while_the_jwks_is_unreachable(
    jwks_http: httpx.Client, jwks: JwksServer, keys: Keys, user: str, outage: Outage
) -> None:
    with jwks.outage(outage):
        for key in (keys.rsa, keys.ec, keys.ed):
            started = time.monotonic()
            response = LIST.call(jwks_http, user, bearer(key.token(claims_for(user))))
            assert response.status_code == 200, response.text
            assert time.monotonic() - started < HANG_GUARD_SECONDS


def test_a_new_key_is_accepted_once_the_jwks_recovers(jwks_http: httpx.Client, jwks: JwksServer, user: str) -> None:
    new_key = SigningKey.rsa()
    jwks.publish(new_key)
    token = new_key.token(claims_for(user))
    with jwks.outage("refused"):
        assert_problem(LIST.call(jwks_http, user, bearer(token)), 503)
    response = LIST.call(jwks_http, user, bearer(token))
    assert response.status_code == 200, response.text


def test_concurrent_requests_during_a_slow_jwks_share_fetches_and_are_answered_promptly(
    jwks_server: LiveServer, jwks_http: httpx.Client, jwks: JwksServer
) -> None:
    count = 10
    tokens = [(user, SigningKey.ec().token(claims_for(user))) for user in (new_user_id() for _ in range(count))]
    start = threading.Barrier(count)

    def call(user_and_token: tuple[str, str]) -> httpx.Response:
        user, token = user_and_token
        start.wait()
        return httpx.get(f"{jwks_server.url}{LIST.path(user)}", headers=bearer(token), timeout=30)

    with jwks.outage("slow"):
        before = jwks.fetches()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=count) as pool:
            responses = list(pool.map(call, tokens))
        elapsed = time.monotonic() - started
        fetches = jwks.fetches() - before
    for response in responses:
        assert_problem(response, 503)
    assert elapsed < HANG_GUARD_SECONDS
    # One fetch for those that came first, one for those that queued behind it (at most one more for stragglers).
    assert fetches <= 3, fetches


# --- startup refusal ---------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("JWT_SECRET", "BETTER_AUTH_SECRET", "JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("variable", ["JWT_SECRET", "BETTER_AUTH_SECRET"])
@pytest.mark.parametrize("secret", ["x" * 31, "s3cr3t", "changeme", "CHANGEME", "secret", "your-secret-here"])
def test_a_short_or_placeholder_secret_is_refused(clean_env: pytest.MonkeyPatch, variable: str, secret: str) -> None:
    clean_env.setenv(variable, secret)
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(_env_file=None)


def test_a_random_secret_of_32_bytes_is_accepted(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("JWT_SECRET", "k" * 16 + "Zq3v-9xW_p2Lr7sT")
    assert Settings(_env_file=None).shared_secret_mode


@pytest.mark.parametrize(
    "env",
    [{}, {"JWT_SECRET": SHARED_SECRET, "JWKS_URL": "https://auth.tasks.test/api/auth/jwks"}],
    ids=["neither", "both"],
)
def test_exactly_one_auth_mode_must_be_configured(clean_env: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    with pytest.raises(ValidationError, match="exactly one"):
        Settings(_env_file=None)


JWKS_NEEDS_ISSUER_AND_AUDIENCE = "JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE: Better Auth's JWT plugin sets both"


@pytest.mark.parametrize(
    "env",
    [{}, {"JWT_ISSUER": ISSUER}, {"JWT_AUDIENCE": AUDIENCE}],
    ids=["neither", "issuer-only", "audience-only"],
)
def test_jwks_mode_needs_an_issuer_and_an_audience(clean_env: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    clean_env.setenv("JWKS_URL", "https://auth.tasks.test/api/auth/jwks")
    for name, value in env.items():
        clean_env.setenv(name, value)
    with pytest.raises(ValidationError, match=JWKS_NEEDS_ISSUER_AND_AUDIENCE):
        Settings(_env_file=None)


def test_jwks_mode_with_an_issuer_and_an_audience_is_accepted(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("JWKS_URL", "https://auth.tasks.test/api/auth/jwks")
    clean_env.setenv("JWT_ISSUER", ISSUER)
    clean_env.setenv("JWT_AUDIENCE", AUDIENCE)
    assert not Settings(_env_file=None).shared_secret_mode


def test_shared_secret_mode_needs_neither_issuer_nor_audience(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("JWT_SECRET", SHARED_SECRET)
    settings = Settings(_env_file=None)
    assert (settings.jwt_issuer, settings.jwt_audience) == (None, None)


def test_a_jwks_server_without_an_audience_does_not_start_and_says_why(database_url: str, jwks: JwksServer) -> None:
    env = {"DATABASE_URL": database_url, **jwks_env(jwks.url, audience="")}
    with pytest.raises(RuntimeError, match=JWKS_NEEDS_ISSUER_AND_AUDIENCE):
        LiveServer(env, log_path=REPORTS / "server-jwks-no-audience.log").stop()


@pytest.mark.parametrize("secret", ["changeme", "short-secret", " " * 40], ids=["placeholder", "short", "blank"])
def test_a_server_with_a_weak_secret_does_not_start(database_url: str, secret: str) -> None:
    env = {**shared_secret_env(database_url), "JWT_SECRET": secret}
    with pytest.raises(RuntimeError, match="exited early"):
        LiveServer(env, log_path=REPORTS / "server-weak-secret.log").stop()
