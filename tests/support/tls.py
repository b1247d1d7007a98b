"""A throwaway certificate authority for TLS tests (the ``cryptography`` package).

``Authority.make(directory)`` writes a CA certificate; ``issue`` writes a certificate and
key it signed, for a server (names and IP addresses in its subjectAltName) or a client.
Keys are EC P-256: quick to make, accepted by Mosquitto, paho and Python's ssl.
"""

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Authority:
    cert: Path
    key: ec.EllipticCurvePrivateKey
    name: x509.Name
    directory: Path

    @classmethod
    def make(cls, directory: Path, common_name: str = "SensorGrid test CA") -> "Authority":
        directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        name = _name(common_name)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        path = directory / "ca.crt"
        path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return cls(path, key, name, directory)

    def issue(self, name: str, hosts: tuple[str, ...] = (), client: bool = False) -> Issued:
        """A certificate for ``name`` valid for ``hosts`` (DNS names or IP addresses)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        alternatives: list[x509.GeneralName] = []
        for host in hosts:
            try:
                alternatives.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                alternatives.append(x509.DNSName(host))
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if alternatives:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(alternatives), critical=False
            )
        certificate = builder.sign(self.key, hashes.SHA256())
        cert = self.directory / f"{name}.crt"
        cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path = self.directory / f"{name}.key"
        _write_key(key, key_path)
        return Issued(cert, key_path)


def mosquitto_tls(directory: Path, authority: Authority, server: Issued, require_client_cert=False):
    """A throwaway Mosquitto (tests.servers) whose listener speaks TLS only, not started."""
    from tests.servers import STAY_ROOT, Mosquitto

    broker = Mosquitto(directory)
    (directory / "mosquitto.conf").write_text(
        f"listener {broker.port} 127.0.0.1\n"
        f"cafile {authority.cert}\n"
        f"certfile {server.cert}\n"
        f"keyfile {server.key}\n"
        f"require_certificate {'true' if require_client_cert else 'false'}\n"
        "allow_anonymous true\n"
        f"log_dest file {directory}/mosquitto.log\n" + (STAY_ROOT if os.geteuid() == 0 else "")
    )
    return broker
