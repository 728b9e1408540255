"""Text made fit for a payment file: the character set and lengths banks accept.

The EPC SEPA Credit Transfer implementation guidelines allow the Latin character set
``a-z A-Z 0-9 / - ? : ( ) . , ' +`` and space in names and remittance information, a name of at
most 70 characters and unstructured remittance of at most 140. Swedish banks also take å ä ö
(and Å Ä Ö, é, ü in names), so those are kept. Every other letter is transliterated (anyascii: ``Ø``
→ ``O``, ``ł`` → ``l``, ``Σ`` → ``S``), symbols, emoji, control and unassigned characters are
dropped, white space is folded, and the text is cut at the field's limit. What a payer registered
is kept unchanged in the registry; only the file carries the fitted form. A name with nothing
left is written as ``NOTPROVIDED``, the EPC's word for a missing name."""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

NAME_MAX = 70  # EPC SCT: Cdtr/Nm, Dbtr/Nm
REMITTANCE_MAX = 140  # EPC SCT: RmtInf/Ustrd
NOT_PROVIDED = "NOTPROVIDED"

_KEPT = "åäöÅÄÖéÉüÜ"
_ALLOWED = re.compile(rf"[a-zA-Z0-9/\-?:().,'+ {_KEPT}]*")
_SPACES = re.compile(r"\s+")


def _char(c: str) -> str:
    if _ALLOWED.fullmatch(c):
        return c
    category = unicodedata.category(c)
    if category.startswith("Z") or c in "\t\n\r":
        return " "
    if category[0] in "LMN":  # letters, marks and digits of other scripts: their Latin form
        return "".join(t for t in anyascii(c) if _ALLOWED.fullmatch(t))
    return ""  # symbols (emoji among them), punctuation outside the set, controls, unassigned


def fit_for_bank(text: str, limit: int) -> str:
    """``text`` in the bank's character set, white space folded, at most ``limit`` characters
    (cut at a word where one ends in the last fifth). Idempotent."""
    if len(text) <= limit and _ALLOWED.fullmatch(text) and "  " not in text and text == text.strip():
        return text  # the common case, as fast as a match
    fitted = _SPACES.sub(" ", "".join(_char(c) for c in unicodedata.normalize("NFC", text))).strip()
    if len(fitted) > limit:
        cut = fitted[:limit]
        space = cut.rfind(" ")
        fitted = (cut[:space] if space >= limit * 4 // 5 else cut).rstrip()
    return fitted


def fit_name(name: str) -> str:
    """A party's name as the file carries it: fitted, or NOTPROVIDED when nothing is left."""
    return fit_for_bank(name, NAME_MAX) or NOT_PROVIDED
