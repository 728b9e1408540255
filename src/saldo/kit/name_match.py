"""Name matching for verification of payee: does the name a payer gives fit the account holder's name
as the bank registered it? The answer follows the EPC VOP rulebook's four outcomes, always with the
reason that decided it. The rules are written out in docs/name-matching.md; similarity scores come
from rapidfuzz, never from a hand-written edit distance."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from rapidfuzz import fuzz


class Outcome(StrEnum):
    """The EPC VOP outcomes, with the codes of its API (MTCH, CMTC, NMTC, NOAP)."""

    MATCH = "match"
    CLOSE_MATCH = "close_match"
    NO_MATCH = "no_match"
    NOT_POSSIBLE = "not_possible"

    @property
    def epc_code(self) -> str:
        return _EPC_CODES[self]


_EPC_CODES = {
    Outcome.MATCH: "MTCH",
    Outcome.CLOSE_MATCH: "CMTC",
    Outcome.NO_MATCH: "NMTC",
    Outcome.NOT_POSSIBLE: "NOAP",
}


class Reason(StrEnum):
    """Why a name comparison came out as it did (one per answer)."""

    EXACT = "exact"  # the same text
    NORMALISED = "normalised"  # equal after case, whitespace and punctuation
    DIACRITICS = "diacritics"  # equal once å/ä/ö/æ/ø/ü… are stripped or transliterated (ä→a, ä→ae)
    TOKEN_ORDER = "token_order"  # noqa: S105 — a reason code, not a secret. The same names in another order ("Andersson Anna")
    # A given name left out: "Anna Andersson" or "Maria Andersson" for "Anna Maria Andersson" (many
    # Swedes go by their second given name, their tilltalsnamn).
    GIVEN_NAME_OMITTED = "given_name_omitted"
    GIVEN_NAME_ABBREVIATED = "given_name_abbreviated"  # "Anna M. Andersson"
    INITIALS = "initials"  # given names only as initials ("A. Andersson", "A. M. Andersson")
    SURNAME_PART = "surname_part"  # one part of a double-barrelled surname ("Anna Berg" for "Anna Andersson-Berg")
    SIMILAR = "similar"  # a small spelling difference ("Anderson" for "Andersson")
    LEGAL_FORM_OMITTED = "legal_form_omitted"  # "Volvo" for "Volvo AB"
    LEGAL_FORM_DIFFERS = "legal_form_differs"  # "Nordsol Oy" for "Nordsol AB"
    NAME_DIFFERS = "name_differs"  # nothing above applies
    NAME_EMPTY = "name_empty"  # nothing left to compare after normalisation


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Similarity scores (0-100, rapidfuzz) at which a spelling difference still counts."""

    match: float = 98.0  # only the slightest difference in a long name; a typo is a close match
    close_match: float = 85.0  # e.g. "Anderson" for "Andersson", "Mohamed" for "Mohammed"


@dataclass(frozen=True, slots=True)
class NameMatch:
    outcome: Outcome
    reason: Reason
    score: float  # 0-100: how alike the two names are after normalisation


# Letters that Unicode does not decompose into a base letter and a mark.
_STRIP_EXTRA = str.maketrans(
    {"\u0131": "i", "æ": "ae", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ł": "l", "ß": "ss", "œ": "oe"}
)
# The German/Nordic transliteration a bank clerk or an older system may have used instead.
_TRANSLITERATE = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "å": "aa",
        "ø": "oe",
        "æ": "ae",
        "õ": "o",
        "ß": "ss",
        "þ": "th",
        "ð": "d",
        "\u0131": "i",  # dotless i (Turkish), which upper-cases to I
    }
)
_NOT_WORD = re.compile(r"[^\w]+")
_HYPHENATED = re.compile(r"\w+(?:-\w+)+")

# Legal forms of the Nordic and Baltic countries and their neighbours, normalised (no dots, no
# diacritics), longest first. A one-word form is removed only at the start or end of a name.
_LEGAL_FORMS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        (
            tuple(f.split())
            for f in (
                "ab publ", "a s", "ekonomisk forening", "ek for", "ideell forening", "handelsbolag",
                "kommanditbolag", "aktiebolag", "aktiebolaget", "aktieselskab", "anpartsselskab",
                "aksjeselskap", "allmennaksjeselskap", "osakeyhtio", "julkinen osakeyhtio", "osuuskunta",
                "ab", "hb", "kb", "oy", "oyj", "as", "asa", "aps", "hf", "ehf", "sia", "uab", "ou", "oue",
                "gmbh", "ltd", "plc", "publ",
            )
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip
# Legal forms that are the same form written out or abbreviated.
_SAME_FORM = {
    "ab publ": "ab",
    "publ": "ab",
    "aktiebolag": "ab",
    "aktiebolaget": "ab",
    "osakeyhtio": "oy",
    "julkinen osakeyhtio": "oyj",
    "a s": "as",  # Danish A/S and Norwegian AS: the same kind of company, and A/S loses its slash
    "aktieselskab": "as",
    "aksjeselskap": "as",
    "anpartsselskab": "aps",
    "allmennaksjeselskap": "asa",
    "ekonomisk forening": "ek for",
    "oue": "ou",
}
# Common abbreviations in organisation names, expanded on both sides before comparing.
_ABBREVIATIONS = {
    "and": "och",
    "og": "och",
    "ja": "och",
    "st": "sankt",
    "bros": "brothers",
    "intl": "international",
    "kn": "kommun",
    "forsaml": "forsamling",
    "stift": "stiftelsen",
    "stiftelse": "stiftelsen",
    "foren": "forening",
}


@dataclass(frozen=True, slots=True)
class _Form:
    tokens: tuple[str, ...]
    hyphenated: frozenset[str]  # tokens that were part of a hyphenated compound ("andersson-berg")
    folded: bool  # diacritics stripped or transliterated


def _fold(text: str, table: dict[int, str]) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(table))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=65_536)
def _forms(name: str) -> tuple[_Form, ...]:
    """The name in each spelling a register may hold it: case-folded as written, with diacritics
    stripped (ä→a), and transliterated (ä→ae). Whitespace, hyphens, dots and other punctuation
    separate tokens; "&" becomes "and"; "S:t" becomes "st"."""
    plain = unicodedata.normalize("NFKC", name).casefold().replace("s:t", "st").replace("&", " and ")
    if plain.count(",") == 1:  # "Andersson, Anna Maria": surname first, as many registers print it
        surname, given = plain.split(",")
        plain = f"{given} {surname}"
    out: list[_Form] = []
    for text, folded in ((plain, False), (_fold(plain, _STRIP_EXTRA), True), (_fold(plain, _TRANSLITERATE), True)):
        tokens = tuple(_NOT_WORD.sub(" ", text).replace("_", " ").split())
        hyphenated = frozenset(t for m in _HYPHENATED.findall(text) for t in m.split("-"))
        if all(f.tokens != tokens for f in out):
            out.append(_Form(tokens, hyphenated, folded))
    return tuple(out)


def _score(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    return float(fuzz.token_sort_ratio(" ".join(a), " ".join(b)))


def _person_rule(req: _Form, reg: _Form) -> tuple[Outcome, Reason] | None:
    """The structural rules for a person's name, strongest first; None when none applies. The
    registered name is read both as given names + surname and as surname + given names."""
    a, b = req.tokens, reg.tokens
    if a == b:
        return Outcome.MATCH, Reason.NORMALISED
    if sorted(a) == sorted(b):
        return Outcome.MATCH, Reason.TOKEN_ORDER
    direct = _given_names_rule(a, b, reg.hyphenated)
    if direct is not None:
        return direct
    # Read as surname first ("ANDERSSON ANNA MARIA"), a name cannot be told from one that lacks its
    # surname ("Anna Maria"), so that reading is at best a close match that shows the registered name.
    rotated = _given_names_rule(a, (*b[1:], b[0]), reg.hyphenated)
    return None if rotated is None else (Outcome.CLOSE_MATCH, rotated[1])


def _given_names_rule(
    a: tuple[str, ...], b: tuple[str, ...], hyphenated: frozenset[str]
) -> tuple[Outcome, Reason] | None:
    """Given names left out or abbreviated, for a registered name ``b`` whose last token is the surname."""
    full = [t for t in a if len(t) > 1]
    initials = [t for t in a if len(t) == 1]
    if len(a) < 2 or len(b) < 2 or not set(full) <= set(b):
        return None
    unused = [t for t in b if t not in full]
    if not all(any(u.startswith(i) for u in unused) for i in initials):
        return None
    missing = [u for u in unused if not any(u.startswith(i) for i in initials)]
    given_in_full = [t for t in full if t in b[:-1] and t not in hyphenated]
    if any(u in hyphenated for u in missing):
        # "Anna Berg" for "Anna Andersson-Berg": one part of a double-barrelled surname
        return (Outcome.CLOSE_MATCH, Reason.SURNAME_PART) if given_in_full else None
    if b[-1] not in full:
        return None  # the surname is not there in full
    if not given_in_full:
        return Outcome.CLOSE_MATCH, Reason.INITIALS
    return Outcome.MATCH, Reason.GIVEN_NAME_ABBREVIATED if initials else Reason.GIVEN_NAME_OMITTED


def _strip_legal_form(tokens: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the name without its legal forms, the legal forms found) for an organisation's tokens."""
    kept = [_ABBREVIATIONS.get(t, t) for t in (_fold(t, _STRIP_EXTRA) for t in tokens)]
    forms: set[str] = set()
    for phrase in _LEGAL_FORMS:
        n = len(phrase)
        i = 0
        while i + n <= len(kept):
            at_edge = i == 0 or i + n == len(kept)
            if tuple(kept[i : i + n]) == phrase and (at_edge or n > 1) and len(kept) > n:
                form = " ".join(phrase)
                forms.add(_SAME_FORM.get(form, form))
                del kept[i : i + n]
            else:
                i += 1
    return tuple(kept), tuple(sorted(forms))


def _organisation_rule(req: _Form, reg: _Form, thresholds: Thresholds) -> NameMatch:
    a, a_forms = _strip_legal_form(req.tokens)
    b, b_forms = _strip_legal_form(reg.tokens)
    score = _score(a, b)
    if a == b or sorted(a) == sorted(b):
        if a_forms == b_forms:
            return NameMatch(Outcome.MATCH, Reason.DIACRITICS if req.folded else Reason.NORMALISED, score)
        if not a_forms or not b_forms:
            return NameMatch(Outcome.MATCH, Reason.LEGAL_FORM_OMITTED, score)
        return NameMatch(Outcome.CLOSE_MATCH, Reason.LEGAL_FORM_DIFFERS, score)
    return _by_score(score, thresholds)


def _by_score(score: float, thresholds: Thresholds) -> NameMatch:
    if score >= thresholds.match:
        return NameMatch(Outcome.MATCH, Reason.SIMILAR, score)
    if score >= thresholds.close_match:
        return NameMatch(Outcome.CLOSE_MATCH, Reason.SIMILAR, score)
    return NameMatch(Outcome.NO_MATCH, Reason.NAME_DIFFERS, score)


_RANK = {Outcome.MATCH: 0, Outcome.CLOSE_MATCH: 1, Outcome.NO_MATCH: 2, Outcome.NOT_POSSIBLE: 3}


def _better(a: NameMatch | None, b: NameMatch) -> NameMatch:
    if a is None or (_RANK[b.outcome], -b.score) < (_RANK[a.outcome], -a.score):
        return b
    return a


def match_name(
    requested: str, registered: str, *, organisation: bool, thresholds: Thresholds = Thresholds()
) -> NameMatch:
    """Compare the name a payer gives with the account holder's name as the bank registered it."""
    if requested.strip() and requested.strip() == registered.strip():
        return NameMatch(Outcome.MATCH, Reason.EXACT, 100.0)
    best: NameMatch | None = None
    for req in _forms(requested):
        for reg in _forms(registered):
            if not req.tokens or not reg.tokens:
                continue
            if organisation:
                best = _better(best, _organisation_rule(req, reg, thresholds))
                continue
            rule = _person_rule(req, reg)
            if rule is None:
                best = _better(best, _by_score(_score(req.tokens, reg.tokens), thresholds))
                continue
            outcome, reason = rule
            if reason is Reason.NORMALISED and (req.folded or reg.folded):
                reason = Reason.DIACRITICS
            best = _better(best, NameMatch(outcome, reason, _score(req.tokens, reg.tokens)))
    return best if best is not None else NameMatch(Outcome.NO_MATCH, Reason.NAME_EMPTY, 0.0)
