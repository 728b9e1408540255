"""The issuer's signing key and its X.509 chain, and the trust anchors a verifier accepts issuers
under. Credentials are signed ES256 (P-256), as HAIP and the EUDI wallet's rulebooks ask; the chain
travels in the credential's ``x5c`` header, leaf first, so a verifier needs only the root.

An installation is given its key and chain as PEM files; for the demo and the tests a small
authority issues them here (``issue_trust_anchor``, ``issue_issuer``)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

VALID_DAYS = 825


@dataclass(frozen=True)
class IssuerKeys:
    """The key credentials are signed with and its chain (leaf first, the root left out)."""

    private_key: ec.EllipticCurvePrivateKey
    chain: tuple[x509.Certificate, ...]

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]

    @property
    def x5c(self) -> list[str]:
        """The chain as the ``x5c`` header carries it: base64 DER, not base64url."""
        return [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in self.chain]

    def write(self, key_path: Path, chain_path: Path) -> None:
        key_path.parent.mkdir(parents=True, exist_ok=True)
        key_path.write_bytes(
            self.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        key_path.chmod(0o600)
        chain_path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain))


def certificate_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def load_issuer_keys(key_path: Path, chain_path: Path) -> IssuerKeys:
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise TypeError(f"{key_path}: a credential issuer's key must be EC P-256 (ES256)")
    chain = tuple(x509.load_pem_x509_certificates(chain_path.read_bytes()))
    if not chain:
        raise ValueError(f"{chain_path}: no certificate")
    if chain[0].public_key() != key.public_key():
        raise ValueError(f"{chain_path}: the first certificate is not the key's")
    return IssuerKeys(key, chain)


def load_anchors(path: Path) -> tuple[x509.Certificate, ...]:
    return tuple(x509.load_pem_x509_certificates(path.read_bytes()))


def verify_chain(x5c: Sequence[str], anchors: Sequence[x509.Certificate], *, at: dt.datetime) -> x509.Certificate:
    """The leaf of an ``x5c`` chain that leads to one of ``anchors`` and is valid ``at``; raises
    ValueError saying why not. Key usage and constraints are checked as the Web PKI checks a CA."""
    if not anchors:
        raise ValueError("this verifier trusts no issuer")
    try:
        certificates = [x509.load_der_x509_certificate(base64.b64decode(item, validate=True)) for item in x5c]
    except (ValueError, TypeError, x509.InvalidVersion) as error:  # a bent certificate says which
        raise ValueError(f"x5c is not a list of base64 DER certificates: {error}") from None
    if not certificates:
        raise ValueError("x5c is empty")
    verifier = (
        PolicyBuilder()
        .store(Store(list(anchors)))
        .time(at)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
        .build_client_verifier()
    )
    try:
        verifier.verify(certificates[0], certificates[1:])
    except VerificationError as error:
        raise ValueError(f"the issuer's certificate chain does not lead to a trusted issuer: {error}") from None
    return certificates[0]


def _name(common_name: str, country: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, country), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )


def _key_usage(*, sign_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not sign_certificates,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign_certificates,
        crl_sign=sign_certificates,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class TrustAnchor:
    """A root that issuers' certificates chain to (tests and the demo only)."""

    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def issue_trust_anchor(
    common_name: str = "Saldo test credential root", *, now: dt.datetime | None = None
) -> TrustAnchor:
    """A self-signed root for credential issuers (tests and the demo only)."""
    now = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name, "EU")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS * 2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign_certificates=True), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return TrustAnchor(key, certificate)


def issue_issuer(
    anchor: TrustAnchor,
    common_name: str,
    country: str,
    *,
    now: dt.datetime | None = None,
    days: int = VALID_DAYS,
) -> IssuerKeys:
    """An ES256 key and a certificate for a credential issuer, under ``anchor``."""
    now = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, country))
        .issuer_name(anchor.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign_certificates=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(anchor.private_key.public_key()), critical=False
        )
        .sign(anchor.private_key, hashes.SHA256())
    )
    return IssuerKeys(key, (certificate,))
