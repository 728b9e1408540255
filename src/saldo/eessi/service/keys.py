"""A node's keys and certificates: RSA keys with X.509 certificates, as eDelivery AS4 signs and
encrypts with them. An installation is given its key and certificate as PEM files; for the demo and
the tests, a small certificate authority issues them here (the directory pins each institution's
certificate, so no public CA is needed)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_BITS = 2048
VALID_DAYS = 825


@dataclass(frozen=True)
class NodeKeys:
    """The private key a node signs and decrypts with, and its certificate (what others pin)."""

    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def write(self, key_path: Path, certificate_path: Path) -> None:
        key_path.parent.mkdir(parents=True, exist_ok=True)
        key_path.write_bytes(
            self.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        key_path.chmod(0o600)
        certificate_path.write_text(self.certificate_pem, encoding="ascii")


def load_certificate(pem: str | bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode("ascii") if isinstance(pem, str) else pem)


def load_keys(key_path: Path, certificate_path: Path) -> NodeKeys:
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{key_path}: an eDelivery key must be RSA")
    return NodeKeys(key, load_certificate(certificate_path.read_bytes()))


def _name(common_name: str, country: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, country), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )


def issue_authority(common_name: str = "Saldo test CA", *, now: dt.datetime | None = None) -> NodeKeys:
    """A self-signed certificate authority (tests and the demo only)."""
    now = now or dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = _name(common_name, "EU")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return NodeKeys(key, certificate)


def issue_node(
    authority: NodeKeys,
    institution_id: str,
    *,
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
    now: dt.datetime | None = None,
    days: int = VALID_DAYS,
) -> NodeKeys:
    """A key and certificate for an institution (its id is the certificate's common name), also
    good for the node's HTTPS server on ``hosts``."""
    now = now or dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(institution_id, institution_id.split(":", 1)[0]))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(authority.private_key, hashes.SHA256())
    )
    return NodeKeys(key, certificate)
