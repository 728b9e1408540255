"""The credential on paper, for a person without a wallet: a PDF with what the credential says and
a QR code of the credential itself. The code holds the whole SD-JWT VC, every claim disclosed and
bound to no key, as a link to the verifier's paper check. Any verifier can check the issuer's
signature and the status list from it, also offline. Like the paper A1 it replaces, it proves who
it is about only together with the holder's identity document."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping
from urllib.parse import quote

import segno
from fpdf.enums import XPos, YPos

from saldo.credentials.models import Credential
from saldo.credentials.service import Issuer, sign_credential
from saldo.kit.clock import today
from saldo.kit.pdf_text import FAMILY, new_pdf, pdf_text

Translate = Callable[[str], str]
DateText = Callable[[dt.date], str]


def paper_credential(issuer: Issuer, credential: Credential, *, now: dt.datetime) -> str:
    """The SD-JWT VC for paper: every claim disclosed, no holder key, valid to its date of expiry."""
    return sign_credential(issuer, credential, holder_jwk=None, now=now)


def check_link(issuer: Issuer, paper: str) -> str:
    """What the QR code carries: the verifier's paper check with the credential in it."""
    return f"{issuer.url}/verifier/paper?c={quote(paper, safe='~.-_')}"


def credential_pdf(
    credential: Credential,
    *,
    link: str,
    authority: str,
    title: str,
    labels: Mapping[str, str],
    gettext: Translate,
    date: DateText,
    language: str,
) -> bytes:
    """One page: the title, every claim with its label, and the QR code to check it."""
    _ = gettext
    pdf = new_pdf(title=f"{title} {credential.document_number}", author=authority, language=language)
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 15)
    pdf.multi_cell(0, 8, pdf_text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 10)
    pdf.cell(0, 6, pdf_text(f"{authority} · {credential.document_number}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    with pdf.table(col_widths=(60, 110), borders_layout="HORIZONTAL_LINES", line_height=5.5) as table:
        for name, value in credential.claims.items():
            row = table.row()
            row.cell(pdf_text(labels.get(name, name)))
            row.cell(pdf_text(_value(value)))
    pdf.ln(4)
    image = io.BytesIO()
    segno.make(link, error="l").save(image, kind="png", scale=4, border=4)
    image.seek(0)
    pdf.image(image, w=80, h=80)
    pdf.ln(2)
    pdf.set_font(FAMILY, "", 9)
    note = _(
        "Scan the code to check this document with the issuer: it shows whether it is valid and not revoked. "
        "It proves who it is about together with the holder's identity document only."
    )
    pdf.multi_cell(0, 5, pdf_text(note), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    printed = _("Printed")
    pdf.cell(0, 5, pdf_text(f"{printed}: {date(today())}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _value(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values())
    return str(value)
