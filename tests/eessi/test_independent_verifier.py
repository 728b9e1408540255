"""Every signature Saldo writes on the exchange, checked by an implementation Saldo did not write:
the xmlsec1 command (libxmlsec1, C), given only the signer's certificate. And the other way round:
a SED signed by xmlsec1 is accepted by Saldo."""

from __future__ import annotations

import base64
import gzip
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree

from saldo.eessi.service import seds, signatures, transport
from tests.eessi.conftest import FI, SE, Pki, person

XMLSEC1 = shutil.which("xmlsec1")
pytestmark = pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 is installed by .ci/run (Debian package xmlsec1)")
DS = "http://www.w3.org/2000/09/xmldsig#"
# The ids AS4 signs by: wsu:Id on eb:Messaging and on the SOAP body.
IDS = [
    "--id-attr:Id",
    "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/:Messaging",
    "--id-attr:Id",
    "http://www.w3.org/2003/05/soap-envelope:Body",
]


def xmlsec1(tmp_path: Path, document: bytes, certificate_pem: str, *extra: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "doc.xml").write_bytes(document)
    (tmp_path / "signer.pem").write_text(certificate_pem, encoding="ascii")
    return subprocess.run(
        [
            str(XMLSEC1),
            "--verify",
            "--pubkey-cert-pem",
            str(tmp_path / "signer.pem"),
            *extra,
            str(tmp_path / "doc.xml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def h001(document_id: str = "d-1") -> seds.Sed:
    return seds.Sed(
        sed="H001",
        sed_g_ver="4",
        sed_ver="2",
        document_id=document_id,
        case_id="SE:FKA01-c1",
        buc_type="H_BUC_01",
        sender=SE,
        receiver=FI,
        person=person(),
        content=seds.content_of(
            "H001", {"benefitType": "old_age", "period": {"startDate": "2026-01-01"}, "question": "?"}
        ),
    )


def test_xmlsec1_verifies_the_seds_saldo_signs_and_refuses_another_key(tmp_path: Path, pki: Pki) -> None:
    signed = signatures.sign(seds.to_element(h001()), pki.se)
    verified = xmlsec1(tmp_path, signed, pki.se.certificate_pem)
    assert verified.returncode == 0, verified.stderr
    assert "SignedInfo References (ok/all): 1/1" in verified.stderr
    assert xmlsec1(tmp_path, signed, pki.fi.certificate_pem).returncode != 0
    tampered = signed.replace(b"Virtanen", b"Virtasen")
    assert xmlsec1(tmp_path, tampered, pki.se.certificate_pem).returncode != 0


def test_saldo_accepts_a_sed_signed_by_xmlsec1(tmp_path: Path, pki: Pki) -> None:
    root = seds.to_element(h001())
    template = etree.SubElement(root, f"{{{DS}}}Signature", nsmap={"ds": DS})
    info = etree.SubElement(template, f"{{{DS}}}SignedInfo")
    etree.SubElement(info, f"{{{DS}}}CanonicalizationMethod", Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    etree.SubElement(info, f"{{{DS}}}SignatureMethod", Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    reference = etree.SubElement(info, f"{{{DS}}}Reference", URI="")
    transforms = etree.SubElement(reference, f"{{{DS}}}Transforms")
    etree.SubElement(
        transforms, f"{{{DS}}}Transform", Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    )
    etree.SubElement(transforms, f"{{{DS}}}Transform", Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    etree.SubElement(reference, f"{{{DS}}}DigestMethod", Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
    etree.SubElement(reference, f"{{{DS}}}DigestValue")
    etree.SubElement(template, f"{{{DS}}}SignatureValue")
    etree.SubElement(
        etree.SubElement(etree.SubElement(template, f"{{{DS}}}KeyInfo"), f"{{{DS}}}X509Data"),
        f"{{{DS}}}X509Certificate",
    )
    (tmp_path / "template.xml").write_bytes(etree.tostring(root))
    key, certificate = tmp_path / "se.key", tmp_path / "se.pem"
    pki.se.write(key, certificate)
    signed = subprocess.run(
        [str(XMLSEC1), "--sign", "--privkey-pem", f"{key},{certificate}", str(tmp_path / "template.xml")],
        capture_output=True,
        check=True,
    ).stdout
    signatures.verify(signed, [pki.se.certificate])  # raises unless it verifies
    assert seds.from_xml(signed) == h001()
    with pytest.raises(signatures.SignatureError):
        signatures.verify(signed, [pki.fi.certificate])


def test_xmlsec1_verifies_the_receipts_saldo_signs(tmp_path: Path, pki: Pki) -> None:
    sed = signatures.sign(seds.to_element(h001()), pki.se)
    sender, receiver = transport.local_party(SE, pki.se), transport.local_party(FI, pki.fi)
    _, headers, body = transport.build(
        sender,
        transport.remote_party(FI, pki.fi.certificate),
        sed,
        case_id="SE:FKA01-c1",
        sed_type="H001",
        message_id="m-1@test",
    )
    received = transport.receive(receiver, headers, body, lambda institution: [pki.se.certificate])
    receipt = received.build_signal()[1]
    verified = xmlsec1(tmp_path, receipt, pki.fi.certificate_pem, *IDS)
    assert verified.returncode == 0, verified.stderr
    assert "SignedInfo References (ok/all): 2/2" in verified.stderr
    assert xmlsec1(tmp_path, receipt, pki.se.certificate_pem, *IDS).returncode != 0


def test_xmlsec1_verifies_the_header_references_of_the_messages_saldo_signs(tmp_path: Path, pki: Pki) -> None:
    """xmlsec1 has no AS4 attachment transform, so it checks the two references into the SOAP
    envelope (eb:Messaging and the body) and stops at the payload's; the payload's digest is then
    recomputed here with hashlib over the payload decrypted with the receiver's key (cryptography's
    RSA-OAEP and AES-GCM, not Saldo's or the as4 library's code)."""
    sed = signatures.sign(seds.to_element(h001()), pki.se)
    _, headers, body = transport.build(
        transport.local_party(SE, pki.se),
        transport.remote_party(FI, pki.fi.certificate),
        sed,
        case_id="SE:FKA01-c1",
        sed_type="H001",
        message_id="m-2@test",
    )
    boundary = headers["Content-Type"].split('boundary="', 1)[1].split('"', 1)[0].encode()
    parts = [p for p in body.split(b"--" + boundary) if b"\r\n\r\n" in p]
    envelope = parts[0].split(b"\r\n\r\n", 1)[1].strip()
    attachment = parts[1].split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n")
    verified = xmlsec1(tmp_path, envelope, pki.se.certificate_pem, *IDS)
    assert "SignedInfo References (ok/all): 2/3" in verified.stderr, verified.stderr
    assert "Attachment-Content-Signature-Transform" in verified.stderr  # the one it cannot follow

    root = etree.fromstring(envelope)
    cipher = root.find(
        ".//{http://www.w3.org/2001/04/xmlenc#}EncryptedKey//{http://www.w3.org/2001/04/xmlenc#}CipherValue"
    )
    assert cipher is not None
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    session_key = pki.fi.private_key.decrypt(base64.b64decode(cipher.text or ""), oaep)
    compressed = AESGCM(session_key).decrypt(attachment[:12], attachment[12:], None)
    assert gzip.decompress(compressed) == sed
    [digest] = [
        r.findtext(f"{{{DS}}}DigestValue")
        for r in root.iter(f"{{{DS}}}Reference")
        if (r.get("URI") or "").startswith("cid:")
    ]
    assert digest == base64.b64encode(hashlib.sha256(compressed).digest()).decode()
