"""Saldo's SD-JWT VC verifier refuses every way a presentation can be wrong, each with its own
reason, and no malformed input makes it crash or accept (property tests)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS

from saldo.credentials.errors import PresentationRefusedError
from saldo.credentials.service import sd_jwt_vc
from saldo.credentials.service.keys import IssuerKeys, issue_issuer
from saldo.kit.clock import utcnow
from tests.credentials.conftest import CredentialPki

AUDIENCE = "https://inspector.example"
VCT = "urn:eudi:pda1:1"
CLAIMS = {
    "personal_administrative_number": "198506124117",
    "document_number": "SE-PDA1-TEST",
    "issuing_country": "SE",
    "legislation_country": "SE",
}
HOLDER = JWK.generate(kty="EC", crv="P-256")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def credential(pki: CredentialPki, *, keys: IssuerKeys | None = None, **overrides: Any) -> str:
    now = overrides.pop("now", utcnow())
    return sd_jwt_vc.issue(
        keys=keys or pki.issuer,
        issuer="https://saldo.example",
        vct=overrides.pop("vct", VCT),
        claims=CLAIMS,
        disclosable={"personal_administrative_number", "document_number"},
        holder_jwk=HOLDER.export_public(as_dict=True),
        issued_at=now,
        expires_at=overrides.pop("expires_at", now + dt.timedelta(days=30)),
        status={"status_list": {"idx": 3, "uri": "https://saldo.example/credentials/status/1"}},
    )


def present(text: str, *, nonce: str = "n", disclose: set[str] | None = None, key: JWK = HOLDER) -> str:
    return sd_jwt_vc.present(
        text, disclose=disclose if disclose is not None else set(CLAIMS), holder_key=key, audience=AUDIENCE, nonce=nonce
    )


def check(
    pki: CredentialPki, presentation: str, *, nonce: str = "n", status: int = 0, **kwargs: Any
) -> sd_jwt_vc.Verified:
    return sd_jwt_vc.verify(
        presentation,
        anchors=kwargs.pop("anchors", [pki.anchor.certificate]),
        accepted_vcts={VCT},
        audience=kwargs.pop("audience", AUDIENCE),
        nonce=nonce,
        now=kwargs.pop("now", utcnow()),
        status_of=lambda _uri, _idx: status,
    )


def refused(pki: CredentialPki, presentation: str, **kwargs: Any) -> str:
    with pytest.raises(PresentationRefusedError) as error:
        check(pki, presentation, **kwargs)
    return error.value.reason


def unbound_refusal(pki: CredentialPki, text: str) -> str:
    """Why a credential read without key binding (as its issuer reads it back) is refused."""
    with pytest.raises(PresentationRefusedError) as error:
        sd_jwt_vc.verify(
            text,
            anchors=[pki.anchor.certificate],
            accepted_vcts={VCT},
            audience=None,
            nonce=None,
            now=utcnow(),
            status_of=lambda _uri, _idx: 0,
        )
    return error.value.reason


def resign(pki: CredentialPki, presentation: str, change: Callable[[dict[str, Any], dict[str, Any]], None]) -> str:
    """The presentation with its issuer-signed JWT changed and signed again with the trusted key:
    what a compromised or sloppy issuer would send."""
    jwt, *rest = presentation.split("~")
    header = json.loads(base64.urlsafe_b64decode(jwt.split(".")[0] + "=="))
    payload = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))
    change(header, payload)
    signed = JWS(json.dumps(payload))
    signed.add_signature(JWK.from_pyca(pki.issuer.private_key), alg="ES256", protected=json.dumps(header))
    return "~".join([signed.serialize(compact=True), *rest])


class TestAValidPresentation:
    def test_is_accepted_with_only_what_was_disclosed(self, credential_pki: CredentialPki) -> None:
        verified = check(credential_pki, present(credential(credential_pki), disclose={"document_number"}))
        assert verified.disclosed == {
            "document_number": "SE-PDA1-TEST",
            "issuing_country": "SE",
            "legislation_country": "SE",
        }
        assert verified.issuer_subject == "CN=Försäkringskassan,C=SE"


class TestRefusals:
    def test_a_tampered_disclosure(self, credential_pki: CredentialPki) -> None:
        jwt, first, *rest = present(credential(credential_pki)).split("~")
        salt, name, _ = json.loads(base64.urlsafe_b64decode(first + "=="))
        forged = b64(json.dumps([salt, name, "199001011234"]).encode())
        assert refused(credential_pki, "~".join([jwt, forged, *rest])) == "unreferenced_disclosure"

    def test_the_same_disclosure_twice(self, credential_pki: CredentialPki) -> None:
        jwt, first, *rest = present(credential(credential_pki)).split("~")
        assert refused(credential_pki, "~".join([jwt, first, first, *rest])) == "duplicate_disclosure"

    def test_a_digest_that_appears_twice(self, credential_pki: CredentialPki) -> None:
        def duplicate(_header: dict[str, Any], payload: dict[str, Any]) -> None:
            payload["_sd"] = [*payload["_sd"], payload["_sd"][0]]

        bent = resign(credential_pki, credential(credential_pki), duplicate)  # each disclosure once
        assert unbound_refusal(credential_pki, bent) == "duplicate_digest"
        # a wallet's library presents the twice-referenced disclosure twice: refused as well
        assert refused(credential_pki, present(bent)) == "duplicate_disclosure"

    def test_a_changed_payload_breaks_the_signature(self, credential_pki: CredentialPki) -> None:
        jwt, *rest = present(credential(credential_pki)).split("~")
        header, payload, signature = jwt.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["legislation_country"] = "DE"
        changed = ".".join([header, b64(json.dumps(claims).encode()), signature])
        assert refused(credential_pki, "~".join([changed, *rest])) == "bad_signature"

    def test_a_wrong_vct(self, credential_pki: CredentialPki) -> None:
        assert refused(credential_pki, present(credential(credential_pki, vct="urn:eudi:pid:1"))) == "wrong_vct"

    def test_expired_and_not_yet_valid(self, credential_pki: CredentialPki) -> None:
        old = utcnow() - dt.timedelta(days=60)
        expired = credential(credential_pki, now=old, expires_at=old + dt.timedelta(days=30))
        assert refused(credential_pki, present(expired)) == "expired"
        future = credential(credential_pki, now=utcnow() + dt.timedelta(days=2))
        assert refused(credential_pki, present(future)) == "not_yet_valid"

    def test_an_untrusted_issuer_and_a_broken_chain(self, credential_pki: CredentialPki) -> None:
        stranger = issue_issuer(credential_pki.stranger, "Not trusted", "SE")
        assert refused(credential_pki, present(credential(credential_pki, keys=stranger))) == "untrusted_issuer"

        def garbage(header: dict[str, Any], _payload: dict[str, Any]) -> None:
            header["x5c"] = ["bm90IGEgY2VydGlmaWNhdGU="]

        assert (
            refused(credential_pki, resign(credential_pki, present(credential(credential_pki)), garbage))
            == "untrusted_issuer"
        )

        def swapped(header: dict[str, Any], _payload: dict[str, Any]) -> None:
            header["x5c"] = stranger.x5c  # a chain that leads nowhere trusted, the signature by the trusted key

        assert (
            refused(credential_pki, resign(credential_pki, present(credential(credential_pki)), swapped))
            == "untrusted_issuer"
        )
        assert refused(credential_pki, present(credential(credential_pki)), anchors=[]) == "untrusted_issuer"

    def test_revoked_and_suspended(self, credential_pki: CredentialPki) -> None:
        presentation = present(credential(credential_pki))
        assert refused(credential_pki, presentation, status=1) == "revoked"
        assert refused(credential_pki, presentation, status=2) == "suspended"

    def test_key_binding_missing_wrong_replayed_or_for_someone_else(self, credential_pki: CredentialPki) -> None:
        issued = credential(credential_pki)
        assert refused(credential_pki, issued) == "no_key_binding"  # the bare credential, as issued
        thief = JWK.generate(kty="EC", crv="P-256")
        assert refused(credential_pki, present(issued, key=thief)) == "wrong_key_binding"
        assert refused(credential_pki, present(issued, nonce="yesterday"), nonce="today") == "wrong_nonce"
        assert refused(credential_pki, present(issued), audience="https://other.example") == "wrong_audience"
        late = utcnow() + dt.timedelta(minutes=10)
        assert refused(credential_pki, present(issued), now=late) == "stale_key_binding"

    def test_a_key_binding_moved_to_other_disclosures(self, credential_pki: CredentialPki) -> None:
        issued = credential(credential_pki)
        few = present(issued, disclose={"document_number"})
        many = present(issued)
        kb = few.rsplit("~", 1)[1]
        assert refused(credential_pki, many.rsplit("~", 1)[0] + "~" + kb) == "wrong_sd_hash"

    @pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES384"])
    def test_unsupported_algorithms(self, credential_pki: CredentialPki, alg: str) -> None:
        jwt, *rest = present(credential(credential_pki)).split("~")
        header = json.loads(base64.urlsafe_b64decode(jwt.split(".")[0] + "=="))
        header["alg"] = alg
        forged = ".".join(
            [b64(json.dumps(header).encode()), jwt.split(".")[1], "" if alg == "none" else jwt.split(".")[2]]
        )
        assert refused(credential_pki, "~".join([forged, *rest])) == "unsupported_algorithm"

    def test_the_wrong_typ(self, credential_pki: CredentialPki) -> None:
        def legacy(header: dict[str, Any], _payload: dict[str, Any]) -> None:
            header["typ"] = "vc+sd-jwt"

        assert (
            refused(credential_pki, resign(credential_pki, present(credential(credential_pki)), legacy)) == "wrong_type"
        )

    def test_an_oversized_token_is_refused_unread(self, credential_pki: CredentialPki) -> None:
        assert refused(credential_pki, "a" * (sd_jwt_vc.MAX_BYTES + 1)) == "too_large"

    def test_a_reserved_name_or_a_registered_claim_in_a_disclosure(self, credential_pki: CredentialPki) -> None:
        for name in ("_sd", "...", "vct"):
            disclosure = b64(json.dumps(["c2FsdA", name, "x"]).encode())
            digest = b64(hashlib.sha256(disclosure.encode()).digest())

            def add(_header: dict[str, Any], payload: dict[str, Any], digest: str = digest) -> None:
                payload["_sd"] = [*payload["_sd"], digest]

            issued = resign(credential_pki, credential(credential_pki), add)
            jwt, *disclosures = issued.split("~")
            bent = "~".join([jwt, *[d for d in disclosures if d], disclosure, ""])
            assert unbound_refusal(credential_pki, bent) == "malformed_disclosure", name


# --- fuzz: whatever arrives, the answer is a refusal with a reason, or (unchanged) acceptance ------

VALID: dict[str, str] = {}
REASONS = {
    "too_large", "malformed", "malformed_disclosure", "duplicate_disclosure", "duplicate_digest",
    "unreferenced_disclosure", "unsupported_algorithm", "wrong_type", "untrusted_issuer", "bad_signature",
    "wrong_vct", "expired", "not_yet_valid", "no_key_binding", "wrong_key_binding", "wrong_audience",
    "wrong_nonce", "stale_key_binding", "wrong_sd_hash", "revoked", "suspended", "status_unknown",
}  # fmt: skip


def _valid(pki: CredentialPki) -> str:
    if "p" not in VALID:
        VALID["p"] = present(credential(pki, expires_at=utcnow() + dt.timedelta(days=3650)))
    return VALID["p"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_mutation_of_a_presentation_crashes_or_is_accepted(
    credential_pki: CredentialPki, data: st.DataObject
) -> None:
    original = _valid(credential_pki)
    kind = data.draw(st.sampled_from(["flip", "cut", "insert", "parts", "text"]))
    if kind == "flip":
        at = data.draw(st.integers(0, len(original) - 1))
        char = data.draw(st.characters(codec="ascii"))
        mutated = original[:at] + char + original[at + 1 :]
    elif kind == "cut":
        mutated = original[: data.draw(st.integers(0, len(original) - 1))]
    elif kind == "insert":
        at = data.draw(st.integers(0, len(original)))
        mutated = original[:at] + data.draw(st.text(min_size=1, max_size=20)) + original[at:]
    elif kind == "parts":
        parts = original.split("~")
        mutated = "~".join(data.draw(st.permutations(parts)))
    else:
        mutated = data.draw(st.text(max_size=200))
    reason = None
    try:
        check(credential_pki, mutated, nonce="n")
    except PresentationRefusedError as error:
        reason = error.reason
    # refused with a reason, or accepted only if the mutation changed nothing
    assert reason in REASONS if reason is not None else mutated == original


def test_a_status_reference_out_of_bounds_is_refused(credential_pki: CredentialPki) -> None:
    now = utcnow()
    for status in (
        {"status_list": {"idx": 3, "uri": "https://saldo.example/" + "s" * 600}},
        {"status_list": {"idx": 1 << 40, "uri": "https://saldo.example/credentials/status/1"}},
        {"status_list": {"idx": -1, "uri": "https://saldo.example/credentials/status/1"}},
    ):
        issued = sd_jwt_vc.issue(
            keys=credential_pki.issuer,
            issuer="https://saldo.example",
            vct=VCT,
            claims=CLAIMS,
            disclosable=set(),
            holder_jwk=HOLDER.export_public(as_dict=True),
            issued_at=now,
            expires_at=now + dt.timedelta(days=1),
            status=status,
        )
        assert refused(credential_pki, present(issued, disclose=set())) == "malformed"
