"""An identity provider's signing keys, and its JWKS endpoint as a local HTTP server in a thread.

The endpoint answers like an identity provider's JWKS: `{"keys": [{"kid", "kty", "crv", "x", "y"}]}`
(`n`, `e` for RSA; `crv`, `x` for Ed25519) with no `alg` in the keys (Better Auth 1.7 adds one; the
real Better Auth is tests/support/better_auth.py). It can be taken down (connection refused, 500,
not JSON), made slow (answers after longer than the service's JWKS_TIMEOUT) or made to trickle
(headers at once, then one byte at a time), and keys can be published and retired while it runs.
Every request is logged by path, so tests can count fetches and prove that a URL was never fetched.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.support.forge import b64url, encode, without_none

JWKS_PATH = "/api/auth/jwks"
SLOW_SECONDS = 3.0
TRICKLE_BYTE_SECONDS = 0.3

Outage = Literal["refused", "error", "not_json", "slow", "trickle"]
Mode = Literal["up", "error", "not_json", "slow", "trickle"]


def b64url_uint(value: int, size: int | None = None) -> str:
    size = size or (value.bit_length() + 7) // 8
    return b64url(value.to_bytes(size, "big"))


@dataclass(frozen=True)
class SigningKey:
    """An RS256, ES256 or EdDSA (Ed25519) key pair with its key id, as the identity provider holds it."""

    kid: str
    alg: Literal["RS256", "ES256", "EdDSA"]
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

    @classmethod
    def rsa(cls, kid: str | None = None) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid or f"rsa-{uuid.uuid4().hex[:8]}", "RS256", key)

    @classmethod
    def ec(cls, kid: str | None = None) -> SigningKey:
        return cls(kid or f"ec-{uuid.uuid4().hex[:8]}", "ES256", ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def ed25519(cls, kid: str | None = None) -> SigningKey:
        return cls(kid or f"ed-{uuid.uuid4().hex[:8]}", "EdDSA", ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def like(cls, other: SigningKey, kid: str | None = None) -> SigningKey:
        """A fresh key of the same kind (under the same kid unless told otherwise)."""
        make = {"RS256": cls.rsa, "ES256": cls.ec, "EdDSA": cls.ed25519}[other.alg]
        return make(kid or other.kid)

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.private_key, rsa.RSAPrivateKey):
            return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return self.private_key.sign(data)
        r, s = decode_dss_signature(self.private_key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def token(self, claims: dict[str, Any], **header: Any) -> str:
        """A JWT signed with this key; header entries override the defaults, None leaves one out."""
        return encode(without_none({"alg": self.alg, "typ": "JWT", "kid": self.kid, **header}), claims, self.sign)

    @property
    def public_jwk(self) -> dict[str, str]:
        public = self.private_key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            numbers = public.public_numbers()
            return {"kid": self.kid, "kty": "RSA", "n": b64url_uint(numbers.n), "e": b64url_uint(numbers.e)}
        if isinstance(public, ed25519.Ed25519PublicKey):
            return {"kid": self.kid, "kty": "OKP", "crv": "Ed25519", "x": b64url(self.public_raw)}
        point = public.public_numbers()
        return {
            "kid": self.kid,
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_uint(point.x, 32),
            "y": b64url_uint(point.y, 32),
        }

    @property
    def public_raw(self) -> bytes:
        """An Ed25519 public key's 32 bytes (what its JWK's `x` encodes)."""
        return self.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def public_der(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass
class Keys:
    """What the tests' identity provider publishes: one key of each kind the service verifies."""

    rsa: SigningKey = field(default_factory=lambda: SigningKey.rsa("rsa-main"))
    ec: SigningKey = field(default_factory=lambda: SigningKey.ec("ec-main"))
    ed: SigningKey = field(default_factory=lambda: SigningKey.ed25519("ed-main"))

    def all(self) -> list[SigningKey]:
        return [self.rsa, self.ec, self.ed]


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: JwksServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that gave up on a slow answer close the connection; that is expected


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer

    def do_GET(self) -> None:
        owner = self.server.owner
        owner.record(self.path)
        mode = owner.mode
        document = owner.document(self.path)
        if document is None:
            self._send(404, b'{"error":"not found"}')
        elif mode == "error":
            self._send(500, b'{"error":"internal"}')
        elif mode == "not_json":
            self._send(200, b"<html>maintenance</html>", "text/html")
        elif mode == "slow":
            time.sleep(SLOW_SECONDS)
            self._send(200, document)
        elif mode == "trickle":
            self._send(200, document, trickle=True)
        else:
            self._send(200, document)

    def _send(self, status: int, body: bytes, content_type: str = "application/json", *, trickle: bool = False) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not trickle:
                self.wfile.write(body)
                return
            for byte in body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(TRICKLE_BYTE_SECONDS)
        except OSError:
            pass  # the client gave up

    def log_message(self, format: str, *args: Any) -> None:
        pass


class JwksServer:
    """Serves the published keys at JWKS_PATH (and other key sets at other paths) on 127.0.0.1."""

    def __init__(self, keys: list[SigningKey]) -> None:
        self.mode: Mode = "up"
        self._published: dict[str, SigningKey] = {key.kid: key for key in keys}
        self._other_documents: dict[str, list[SigningKey]] = {}
        self._requests: list[str] = []
        self._lock = threading.Lock()
        self.port = 0
        self._listen()

    def _listen(self) -> None:
        self._httpd = _HttpServer(("127.0.0.1", self.port), _Handler)
        self._httpd.owner = self
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def _close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def stop(self) -> None:
        self._close()

    def url_for(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def url(self) -> str:
        return self.url_for(JWKS_PATH)

    # --- keys -------------------------------------------------------------------------------

    def publish(self, key: SigningKey) -> None:
        with self._lock:
            self._published[key.kid] = key

    def retire(self, kid: str) -> None:
        with self._lock:
            self._published.pop(kid, None)

    def serve(self, path: str, keys: list[SigningKey]) -> None:
        """Serve another key set at this path (an attacker's `jku`, say)."""
        with self._lock:
            self._other_documents[path] = keys

    def document(self, path: str) -> bytes | None:
        with self._lock:
            keys = list(self._published.values()) if path == JWKS_PATH else self._other_documents.get(path)
        if keys is None:
            return None
        return json.dumps({"keys": [key.public_jwk for key in keys]}).encode()

    # --- requests ---------------------------------------------------------------------------

    def record(self, path: str) -> None:
        with self._lock:
            self._requests.append(path)

    def fetches(self, path: str = JWKS_PATH) -> int:
        """How many requests this path has received so far."""
        with self._lock:
            return sum(1 for requested in self._requests if requested.split("?")[0] == path)

    # --- outages ----------------------------------------------------------------------------

    @contextmanager
    def outage(self, kind: Outage) -> Iterator[None]:
        """The endpoint is unreachable in this way until the block ends."""
        if kind == "refused":
            self._close()
        else:
            self.mode = kind
        try:
            yield
        finally:
            if kind == "refused":
                self._listen()
            self.mode = "up"
