"""Saldo as an eIDAS service provider of its country's eIDAS-Connector (SAML 2.0, the eIDAS
profile), on OneLogin's python3-saml (decision 0025).

The login request is signed and sent by HTTP-Redirect, asking for the minimum natural-person
attributes and a level of assurance of at least ``SALDO_EIDAS_MIN_LOA``. The answer comes back by
HTTP-POST: the library checks the signature against the Connector's certificate, decrypts the
assertion with Saldo's key, and checks the destination, audience, recipient, validity window and
that it answers this request (InResponseTo); Saldo then checks the level of assurance and the
PersonIdentifier's form. Each request is answered once (the login attempt is used up)."""

from __future__ import annotations

import base64
import datetime as dt
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import xmlsec
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants as Saml
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from saldo.crossborder.errors import EidasNotConfiguredError, ForeignLoginRefusedError
from saldo.settings import Settings

LOA = "http://eidas.europa.eu/LoA/"
LEVELS = {f"{LOA}low": 1, f"{LOA}substantial": 2, f"{LOA}high": 3}
NATURAL_PERSON = "http://eidas.europa.eu/attributes/naturalperson/"
REQUESTED = ("PersonIdentifier", "CurrentFamilyName", "CurrentGivenName", "DateOfBirth")  # the minimum data set
# <origin>/<destination>/<identifier>: no whitespace (eIDAS SAML Attribute Profile 1.2, §2.2.3)
PERSON_IDENTIFIER = re.compile(r"^([A-Z]{2})/([A-Z]{2})/([!-~]{1,240})$")
ACS_PATH = "/auth/saml/acs"
METADATA_PATH = "/auth/saml/metadata"
MAX_RESPONSE_BYTES = 512 * 1024


@dataclass(frozen=True)
class Connector:
    """The eIDAS-Connector Saldo logs people in through, and Saldo's side of it."""

    saml: OneLogin_Saml2_Settings
    decrypted: OneLogin_Saml2_Settings  # the same, for an answer whose assertion Saldo has decrypted
    base_url: str
    country: str
    min_level: int

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}{METADATA_PATH}"


@dataclass(frozen=True)
class ForeignIdentity:
    """Who the eIDAS network says logged in, after every check passed."""

    person_identifier: str
    origin: str  # the country whose eID it was
    national_part: str  # what follows "XX/YY/"
    given_name: str
    family_name: str
    birth_date: dt.date
    loa: str  # "substantial" or "high"
    assertion_id: str


def connector_from_settings(settings: Settings) -> Connector:
    """The Connector as configured, read again when a file changes; EidasNotConfiguredError when not."""
    metadata, key, cert = settings.eidas_connector_metadata, settings.eidas_sp_key, settings.eidas_sp_cert
    if metadata is None or key is None or cert is None:
        raise EidasNotConfiguredError(
            "login with an eID of another country is not configured here (SALDO_EIDAS_CONNECTOR_METADATA, "
            "SALDO_EIDAS_SP_KEY, SALDO_EIDAS_SP_CERT)"
        )
    mtimes = (_mtime(metadata), _mtime(key), _mtime(cert))
    saml = _saml_settings(settings.base_url, metadata, key, cert, settings.eidas_min_loa, True, *mtimes)
    decrypted = _saml_settings(settings.base_url, metadata, key, cert, settings.eidas_min_loa, False, *mtimes)
    level = LEVELS[f"{LOA}{settings.eidas_min_loa}"]
    return Connector(saml, decrypted, settings.base_url, settings.eidas_country, level)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@lru_cache(maxsize=4)
def _saml_settings(
    base_url: str, metadata: Path, key: Path, cert: Path, min_loa: str, encrypted: bool, *_mtimes: float
) -> OneLogin_Saml2_Settings:
    try:
        idp = OneLogin_Saml2_IdPMetadataParser.parse(
            metadata.read_text(encoding="utf-8"),
            required_sso_binding=Saml.BINDING_HTTP_REDIRECT,
        )["idp"]
        key_pem, cert_pem = key.read_text(encoding="ascii"), cert.read_text(encoding="ascii")
    except (OSError, UnicodeError, ValueError, KeyError) as error:
        raise EidasNotConfiguredError(
            f"the eIDAS-Connector's metadata or Saldo's key cannot be read: {error}"
        ) from None
    levels = [level for level, rank in LEVELS.items() if rank >= LEVELS[f"{LOA}{min_loa}"]]
    return OneLogin_Saml2_Settings(
        {
            "strict": True,
            "sp": {
                "entityId": f"{base_url}{METADATA_PATH}",
                "assertionConsumerService": {"url": f"{base_url}{ACS_PATH}", "binding": Saml.BINDING_HTTP_POST},
                "NameIDFormat": Saml.NAMEID_UNSPECIFIED,
                "x509cert": cert_pem,
                "privateKey": key_pem,
            },
            "idp": idp,
            "security": {
                "authnRequestsSigned": True,
                "wantAssertionsSigned": True,
                # the answer's assertion must come encrypted: Saldo decrypts it (and refuses one that is
                # not) before the library reads the answer a second time, decrypted
                "wantAssertionsEncrypted": encrypted,
                "wantNameId": False,
                "signatureAlgorithm": Saml.RSA_SHA256,
                "digestAlgorithm": Saml.SHA256,
                "rejectDeprecatedAlgorithm": True,
                "requestedAuthnContext": levels[:1],
                "requestedAuthnContextComparison": "minimum",
                "failOnAuthnContextMismatch": False,  # the level is checked below, with its own message
                "metadataValidUntil": None,
            },
        },
        sp_validation_only=False,
    )


class _EidasAuthnRequest(OneLogin_Saml2_Authn_Request):
    """The library's AuthnRequest with the eIDAS extensions: a public-sector service provider asking
    for the minimum natural-person data set."""

    def __init__(self, settings: OneLogin_Saml2_Settings, *args: Any) -> None:
        super().__init__(settings, *args)
        requested = "".join(
            f'<eidas:RequestedAttribute Name="{NATURAL_PERSON}{name}" '
            f'NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" isRequired="true"/>'
            for name in REQUESTED
        )
        extensions = (
            '<saml2p:Extensions xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol" '
            'xmlns:eidas="http://eidas.europa.eu/saml-extensions">'
            f"<eidas:SPType>public</eidas:SPType><eidas:RequestedAttributes>{requested}</eidas:RequestedAttributes>"
            "</saml2p:Extensions>"
        )
        built = str(getattr(self, "_authn_request"))  # noqa: B009 — the library's attribute, untyped
        self._authn_request = built.replace("</saml:Issuer>", f"</saml:Issuer>{extensions}", 1)


def _request_data(connector: Connector, post: dict[str, str] | None = None) -> dict[str, Any]:
    """What the library reads of "this request": built from the configured address, never from the
    Host header a client chooses, so Destination and Recipient are checked against it."""
    url = urlsplit(connector.base_url)
    https = url.scheme == "https"
    return {
        "https": "on" if https else "off",
        "http_host": url.hostname or "",
        "server_port": str(url.port or (443 if https else 80)),
        "script_name": ACS_PATH,
        "get_data": {},
        "post_data": post or {},
    }


def login_redirect(connector: Connector, relay_state: str) -> tuple[str, str]:
    """(the request's ID, the Connector's address with the signed request): the browser goes there."""
    auth = OneLogin_Saml2_Auth(_request_data(connector), old_settings=connector.saml)
    auth.authn_request_class = _EidasAuthnRequest
    url = auth.login(return_to=relay_state, set_nameid_policy=False)
    return str(auth.get_last_request_id()), str(url)


def _document(saml_response: str) -> Any:
    """The answer's XML, parsed as the library parses it (no DTDs, no entities, no network)."""
    if len(saml_response) > MAX_RESPONSE_BYTES:
        raise ForeignLoginRefusedError("malformed", "the eIDAS answer is too large")
    try:
        return OneLogin_Saml2_XML.to_etree(OneLogin_Saml2_Utils.b64decode(saml_response))
    except Exception as error:
        raise ForeignLoginRefusedError(
            "malformed", f"the eIDAS answer cannot be read: {type(error).__name__}"
        ) from None


def answered_request(saml_response: str) -> str:
    """The ID of the request an answer says it answers (InResponseTo), read before it is checked, to
    find and use up the login it belongs to."""
    root = _document(saml_response)
    answered = root.get("InResponseTo") if root.tag == f"{{{Saml.NS_SAMLP}}}Response" else None
    if not answered:
        raise ForeignLoginRefusedError("unsolicited", "the eIDAS answer does not say which login it answers")
    return str(answered)


def _decrypted(connector: Connector, saml_response: str) -> str:
    """The answer with its one encrypted assertion decrypted in place, for the library to check.
    Decrypted here with one key manager per thread: the library makes a new one for every answer,
    and making one costs about 13 ms (decision 0025)."""
    root = _document(saml_response)
    encrypted = root.findall(f"{{{Saml.NS_SAML}}}EncryptedAssertion")
    if len(encrypted) != 1 or root.findall(f"{{{Saml.NS_SAML}}}Assertion"):
        raise ForeignLoginRefusedError("invalid", "the eIDAS answer must carry exactly one encrypted assertion")
    data = encrypted[0].find(f"{{{Saml.NS_XENC}}}EncryptedData")
    if data is None:
        raise ForeignLoginRefusedError("invalid", "the encrypted assertion has no EncryptedData")
    try:
        assertion = xmlsec.EncryptionContext(_keys(connector.saml.get_sp_key())).decrypt(data)
    except xmlsec.Error:
        raise ForeignLoginRefusedError("invalid", "the assertion cannot be decrypted with Saldo's key") from None
    if getattr(assertion, "tag", None) != f"{{{Saml.NS_SAML}}}Assertion":
        raise ForeignLoginRefusedError("invalid", "the encrypted part is not an assertion")
    encrypted[0].getparent().replace(encrypted[0], assertion)
    return base64.b64encode(OneLogin_Saml2_XML.to_string(root)).decode("ascii")


_THREAD = threading.local()


def _keys(key_pem: str) -> xmlsec.KeysManager:
    cached = getattr(_THREAD, "keys", None)
    if cached is None or cached[0] != key_pem:
        manager = xmlsec.KeysManager()
        manager.add_key(xmlsec.Key.from_memory(key_pem, xmlsec.constants.KeyDataFormatPem, None))
        cached = (key_pem, manager)
        _THREAD.keys = cached
    return cached[1]


def read_answer(connector: Connector, saml_response: str, *, request_id: str) -> ForeignIdentity:
    """Every check of the answer to ``request_id``; ForeignLoginRefusedError with the reason."""
    decrypted = _decrypted(connector, saml_response)
    try:
        response = OneLogin_Saml2_Response(connector.decrypted, decrypted)
        response.is_valid(
            _request_data(connector, {"SAMLResponse": decrypted}), request_id=request_id, raise_exceptions=True
        )
    except OneLogin_Saml2_ValidationError as error:
        raise ForeignLoginRefusedError("invalid", f"the eIDAS answer was refused: {error}") from None
    except Exception as error:
        raise ForeignLoginRefusedError("invalid", f"the eIDAS answer was refused: {type(error).__name__}") from None
    contexts = [str(c) for c in response.get_authn_contexts()]
    level = max((LEVELS.get(c, 0) for c in contexts), default=0)
    if level < connector.min_level:
        shown = ", ".join(contexts) or "none"
        raise ForeignLoginRefusedError(
            "loa_too_low", f"the eID's level of assurance ({shown}) is below what is required"
        )
    attributes = response.get_attributes()
    identifier = _one(attributes, "PersonIdentifier")
    form = PERSON_IDENTIFIER.match(identifier)
    if form is None:
        raise ForeignLoginRefusedError(
            "bad_identifier", f"the PersonIdentifier {identifier!r} is not of the form XX/YY/id"
        )
    if form.group(2) != connector.country:
        raise ForeignLoginRefusedError(
            "bad_identifier", f"the PersonIdentifier is issued for {form.group(2)}, not for {connector.country}"
        )
    try:
        born = dt.date.fromisoformat(_one(attributes, "DateOfBirth"))
    except ValueError:
        raise ForeignLoginRefusedError("bad_attribute", "the DateOfBirth is not a date (YYYY-MM-DD)") from None
    return ForeignIdentity(
        person_identifier=identifier,
        origin=form.group(1),
        national_part=form.group(3),
        given_name=_one(attributes, "CurrentGivenName"),
        family_name=_one(attributes, "CurrentFamilyName"),
        birth_date=born,
        loa="high" if level == LEVELS[f"{LOA}high"] else "substantial",
        assertion_id=str(response.get_assertion_id()),
    )


def _one(attributes: dict[str, list[str]], name: str) -> str:
    values = [v.strip() for v in attributes.get(f"{NATURAL_PERSON}{name}", []) if isinstance(v, str) and v.strip()]
    if len(values) != 1:
        raise ForeignLoginRefusedError("bad_attribute", f"the answer must carry exactly one {name}")
    if len(values[0]) > 200:
        raise ForeignLoginRefusedError("bad_attribute", f"the {name} is longer than 200 characters")
    return values[0]


def sp_metadata(connector: Connector) -> str:
    """Saldo's service provider metadata, for the Connector's operator."""
    metadata = connector.saml.get_sp_metadata()
    errors = connector.saml.validate_metadata(metadata)
    if errors:
        raise EidasNotConfiguredError(f"Saldo's service provider metadata is not valid: {', '.join(errors)}")
    return metadata.decode("utf-8") if isinstance(metadata, bytes) else str(metadata)
