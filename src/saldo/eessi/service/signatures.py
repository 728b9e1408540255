"""The sending institution's own signature on each SED: an enveloped XML-DSig (RSA-SHA256,
exclusive c14n, SHA-256 digest) made and checked with signxml.

AS4 signs each hop (institution to access point, access point to access point); this signature
goes end to end, so the receiving institution knows which institution wrote the SED and that no one
on the way changed it. It is checked against the certificate the directory lists for the sender,
never against the certificate the document carries."""

from __future__ import annotations

from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml.algorithms import SignatureMethod
from signxml.exceptions import InvalidInput, InvalidSignature
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, VerifyResult, XMLVerifier

from saldo.eessi.service.keys import NodeKeys


class SignatureError(ValueError):
    """The SED's signature is missing, broken, or not made with the sender's listed certificate."""


_EXPECT = SignatureConfiguration(
    require_x509=True,
    expect_references=1,
    signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
)


def sign(root: etree._Element, keys: NodeKeys) -> bytes:
    """``root`` with an enveloped signature appended, serialised."""
    signer = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm="sha256",
        c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
    )
    signed = signer.sign(
        root,
        key=keys.private_key,
        cert=[keys.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")],
    )
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def verify(data: bytes, certificates: Iterable[x509.Certificate]) -> bytes:
    """The signed SED, as signed (what the signature covers), when one of ``certificates`` made
    the signature; SignatureError otherwise."""
    candidates = list(certificates)
    if not candidates:
        raise SignatureError("no certificate is listed for the sender")
    last: Exception | None = None
    for certificate in candidates:
        try:
            result = XMLVerifier().verify(
                data,
                x509_cert=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                expect_config=_EXPECT,
            )
        except (InvalidSignature, InvalidInput, etree.XMLSyntaxError) as error:
            last = error
            continue
        assert isinstance(result, VerifyResult)  # one reference expected, so one result
        return etree.tostring(result.signed_xml) if result.signed_xml is not None else b""
    raise SignatureError(f"the SED's signature does not verify with the sender's listed certificate: {last}")
