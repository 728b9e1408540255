"""An eIDAS-Connector Saldo did not write: pysaml2's identity provider (IdentityPython), checking
Saldo's signed login request and answering with eIDAS-profile assertions for made-up persons of
several countries — signed by pysaml2 (RSA-SHA256), then encrypted for Saldo with AES-256-GCM and
RSA-OAEP by Debian's ``xmlsec1``, as the eIDAS network sends them."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from saml2 import BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_UNSPECIFIED, NameID
from saml2.server import Server

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NATURAL_PERSON = "http://eidas.europa.eu/attributes/naturalperson/"
SSO = "https://connector.test/sso"
ENTITY = "https://connector.test/metadata"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
ENCRYPTION = b"""<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"
 xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Type="http://www.w3.org/2001/04/xmlenc#Element">
<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/>
<ds:KeyInfo><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"/>
<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>
<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>"""


def key_and_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed RSA key and certificate, as SAML metadata carries them."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.pem"
    pkcs8 = serialization.PrivateFormat.PKCS8
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption()))
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def _config(key: Path, cert: Path, sp_metadata: str | None) -> IdPConfig:
    config = IdPConfig()
    config.load(
        {
            "entityid": ENTITY,
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": [(SSO, BINDING_HTTP_REDIRECT)]},
                    "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}},
                    "name_id_format": [NAMEID_FORMAT_UNSPECIFIED],
                    "want_authn_requests_signed": True,
                }
            },
            "key_file": str(key),
            "cert_file": str(cert),
            "metadata": {"inline": [sp_metadata]} if sp_metadata else {},
            "xmlsec_binary": "/usr/bin/xmlsec1",
        }
    )
    return config


@dataclass
class Person:
    """A made-up person as their country's eID node tells them."""

    identifier: str  # the eIDAS PersonIdentifier, "FI/SE/…"
    given_name: str
    family_name: str
    born: str

    def attributes(self) -> dict[str, list[str]]:
        return {
            f"{NATURAL_PERSON}PersonIdentifier": [self.identifier],
            f"{NATURAL_PERSON}CurrentGivenName": [self.given_name],
            f"{NATURAL_PERSON}CurrentFamilyName": [self.family_name],
            f"{NATURAL_PERSON}DateOfBirth": [self.born],
        }


class Connector:
    """The identity provider: its metadata for Saldo, and answers to Saldo's requests."""

    def __init__(self, folder: Path, *, reuse_keys: bool = False) -> None:
        self.folder = folder
        if reuse_keys:  # another process's Connector: the same keys, already in the folder
            self.key, self.cert = folder / "connector.key", folder / "connector.pem"
        else:
            self.key, self.cert = key_and_certificate(folder, "connector")
        self.server: Server | None = None
        self.sp_metadata = ""

    def metadata(self) -> Path:
        path = self.folder / "connector-metadata.xml"
        path.write_text(create_metadata_string(None, config=_config(self.key, self.cert, None)).decode(), "utf-8")
        return path

    def trust(self, sp_metadata: str) -> None:
        """Load Saldo's service provider metadata (its request-signing certificate and its ACS)."""
        self.sp_metadata = sp_metadata
        self.server = Server(config=_config(self.key, self.cert, sp_metadata))

    def read_request(self, redirect: str) -> Any:
        """Saldo's login request from the address it sent the browser to, its signature checked."""
        assert self.server is not None
        query = {k: v[0] for k, v in parse_qs(urlsplit(redirect).query).items()}
        assert urlsplit(redirect)._replace(query="").geturl() == SSO
        return self.server.parse_authn_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query["SigAlg"],
            signature=query["Signature"],
        )

    def answer(
        self,
        redirect: str,
        person: Person,
        *,
        loa: str = "substantial",
        audience: str | None = None,
        destination: str | None = None,
        in_response_to: str | None = None,
        signed_by: Server | None = None,
        encrypt_for: Path | None = None,
        encrypt: bool = True,
    ) -> str:
        """A SAMLResponse (base64, for the HTTP-POST binding) to the request in ``redirect``; the
        keyword arguments make it wrong in one way each."""
        assert self.server is not None
        request = self.read_request(redirect).message
        server = signed_by or self.server
        response = server.create_authn_response(
            person.attributes(),
            in_response_to=request.id if in_response_to is None else in_response_to,
            destination=destination or request.assertion_consumer_service_url,
            sp_entity_id=audience or request.issuer.text,
            name_id=NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=person.identifier),
            authn={"class_ref": f"http://eidas.europa.eu/LoA/{loa}"},
            sign_response=False,
            sign_assertion=True,
            sign_alg=RSA_SHA256,
            digest_alg=SHA256,
        )
        signed = str(response).encode()
        return base64.b64encode(encrypt_assertion(signed, encrypt_for or self.sp_cert) if encrypt else signed).decode()

    sp_cert: Path


def encrypt_assertion(response: bytes, certificate: Path) -> bytes:
    """The signed assertion moved into an EncryptedAssertion and encrypted for ``certificate`` by
    ``xmlsec1`` (AES-256-GCM, the key by RSA-OAEP)."""
    document = etree.fromstring(response)
    assertion = document.find(f"{{{SAML}}}Assertion")
    assert assertion is not None
    wrapper = etree.Element(f"{{{SAML}}}EncryptedAssertion")
    assertion.addprevious(wrapper)
    wrapper.append(assertion)
    with tempfile.TemporaryDirectory() as folder:
        data, template, out = Path(folder, "data.xml"), Path(folder, "template.xml"), Path(folder, "out.xml")
        data.write_bytes(etree.tostring(document))
        template.write_bytes(ENCRYPTION)
        xpath = "/*[local-name()='Response']/*[local-name()='EncryptedAssertion']/*[local-name()='Assertion']"
        subprocess.run(
            ["xmlsec1", "--encrypt", "--pubkey-cert-pem", str(certificate), "--session-key", "aes-256",
             "--xml-data", str(data), "--node-xpath", xpath, "--output", str(out), str(template)],
            check=True, capture_output=True,
        )  # fmt: skip
        return out.read_bytes()
