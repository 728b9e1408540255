"""The published purposes for which staff may see a person's data, and the check every purpose given
passes: a code from this list (for the kind of access it covers) or a real sentence saying why.

A code is logged as the code, so every page shows it in the reader's language and the log auditor
can count reads by purpose; a sentence is logged as written (whitespace collapsed). What makes a
real sentence is deliberately modest: at least three distinct words, two of them of three letters or
more, fifteen characters in all, and mostly letters. It keeps out placeholders ("....", "x",
"asdf asdf"), not a determined liar: every read is in the person's own access log and the log
auditor's, with the purpose, which is what keeps a reason honest (docs/security.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from saldo.kit.problem import ProblemError


def N_(message: str) -> str:  # noqa: N802 — gettext's marker: the page translates the text when shown
    return message


class PurposeError(ProblemError, ValueError):
    """The purpose given is neither a published purpose for this access nor a sentence saying why."""

    status = 422
    error = "invalid_purpose"


class AccessKind(StrEnum):
    """The kinds of access a purpose can justify."""

    OPEN_CASE = "open_case"  # re-identify the persons behind findings
    READ_CASE = "read_case"  # read a case with who it is about
    ACT_FOR = "act_for"  # serve a citizen in the assisted channel
    DISCLOSE = "disclose"  # name a person of a case to a payer that pays them (Saldo logs it itself)
    IDENTIFY = "identify"  # see who a document from abroad may be about, to confirm one (Saldo logs it itself)
    ISSUE = "issue"  # see a person's PDA1 or EHIC to issue, suspend or revoke it (Saldo logs it itself)
    EXCHANGE = "exchange"  # read the SEDs of a cross-border case about a person (Saldo logs it itself)
    EVIDENCE = "evidence"  # evidence sent abroad or fetched from abroad, once only (Saldo logs it itself)


@dataclass(frozen=True, slots=True)
class Purpose:
    code: str
    text: str  # English; the pages translate it
    covers: frozenset[AccessKind]
    needs_role: bool = False  # only for someone with a role on the case (assigned, or opened it)


NOTIFY_PAYER = "notify_payer"
ASK_PAYER = "ask_payer"
IDENTIFY_ABROAD = "identify_abroad"
ISSUE_CREDENTIALS = "issue_credentials"
DECIDE_APPLICATIONS = "decide_applications"
CROSS_BORDER_WORK = "cross_border_work"
RELEASE_EVIDENCE = "release_evidence"
FETCH_EVIDENCE = "fetch_evidence"

PURPOSES: dict[str, Purpose] = {
    p.code: p
    for p in (
        Purpose(
            "suspected_error",
            N_("A finding points at an incorrect payment that needs an in-depth audit"),
            frozenset({AccessKind.OPEN_CASE}),
        ),
        Purpose(
            "case_work",
            N_("Working a case assigned to me or opened by me"),
            frozenset({AccessKind.READ_CASE}),
            needs_role=True,
        ),
        Purpose(
            "supervision",
            N_("Supervising case work: assigning cases and following up deadlines"),
            frozenset({AccessKind.READ_CASE}),
        ),
        Purpose(
            "quality_review",
            N_("Reviewing the quality and lawfulness of the case work"),
            frozenset({AccessKind.READ_CASE}),
        ),
        Purpose(
            "complaint",
            N_("Handling the person's complaint, appeal or request for correction"),
            frozenset({AccessKind.READ_CASE, AccessKind.ACT_FOR}),
        ),
        Purpose(
            "access_request",
            N_("Answering the person's request to see the data held about them"),
            frozenset({AccessKind.READ_CASE, AccessKind.ACT_FOR}),
        ),
        Purpose(
            "assisted_service",
            N_("The person asked for help by telephone, at a service office or in writing"),
            frozenset({AccessKind.ACT_FOR}),
        ),
        Purpose(
            NOTIFY_PAYER,
            N_("To let a payer that pays you decide whether its payments to you were right"),
            frozenset({AccessKind.DISCLOSE}),
        ),
        Purpose(
            ASK_PAYER,
            N_("To ask a payer that pays you for information the case needs"),
            frozenset({AccessKind.DISCLOSE}),
        ),
        Purpose(
            IDENTIFY_ABROAD,
            N_("To find out which person a document from an institution abroad is about"),
            frozenset({AccessKind.IDENTIFY}),
        ),
        Purpose(
            CROSS_BORDER_WORK,
            N_("To work a case about you with a social security institution in another country"),
            frozenset({AccessKind.EXCHANGE}),
        ),
        Purpose(
            ISSUE_CREDENTIALS,
            N_("To issue, suspend or revoke your PDA1 or European Health Insurance Card"),
            frozenset({AccessKind.ISSUE}),
        ),
        Purpose(
            DECIDE_APPLICATIONS,
            N_("To decide your application for a PDA1 or a European Health Insurance Card"),
            frozenset({AccessKind.ISSUE}),
        ),
        Purpose(
            RELEASE_EVIDENCE,
            N_("To send evidence you saw and approved to an authority abroad, for your application there"),
            frozenset({AccessKind.EVIDENCE}),
        ),
        Purpose(
            FETCH_EVIDENCE,
            N_("To attach evidence you asked for from an authority abroad to your application here"),
            frozenset({AccessKind.EVIDENCE}),
        ),
    )
}

OTHER = "other"  # the form's choice for "I write why myself"
MAX_LENGTH = 500
_WORD = re.compile(r"[^\W\d_]+(?:[-'\u2019][^\W\d_]+)*")


def published(access: AccessKind, *, has_role: bool = True) -> list[Purpose]:
    """The purposes one may choose for this access (without a role on the case, not ``case_work``)."""
    return [p for p in PURPOSES.values() if access in p.covers and (has_role or not p.needs_role)]


def check_purpose(value: str, access: AccessKind, *, has_role: bool = True) -> str:
    """The purpose to log: a published code that covers ``access``, or the sentence as written.
    Raises :class:`PurposeError` saying what is wrong and what would do."""
    text = " ".join(value.split())
    choices = published(access, has_role=has_role)
    if text in PURPOSES:
        purpose = PURPOSES[text]
        if purpose in choices:
            return text
        if purpose.needs_role:
            raise PurposeError(
                f"purpose: {text!r} is for someone assigned to the case or who opened it; {_hint(choices)}"
            )
        raise PurposeError(f"purpose: {text!r} does not cover this ({access.value}); {_hint(choices)}")
    if len(text) > MAX_LENGTH:
        raise PurposeError(f"purpose: at most {MAX_LENGTH} characters")
    if not is_sentence(text):
        shown = f"{text[:40]!r} is not a published purpose or a sentence" if text else "it is empty"
        raise PurposeError(f"purpose: {shown}; {_hint(choices)}")
    return text


def is_sentence(text: str) -> bool:
    """Three distinct words or more, two of them of three letters or more, fifteen characters or
    more, and more letters than anything else."""
    words = _WORD.findall(text)
    letters = sum(c.isalpha() for c in text)
    return (
        len(text) >= 15
        and len({w.casefold() for w in words}) >= 3
        and sum(len(w) >= 3 for w in words) >= 2
        and letters * 2 > len(text.replace(" ", ""))
    )


def chosen(choice: str, other: str) -> str:
    """A form's purpose: the published code chosen, or the sentence written under "other"."""
    return other if choice.strip() in ("", OTHER) else choice


def _hint(choices: list[Purpose]) -> str:
    return "choose one of " + ", ".join(p.code for p in choices) + " or write in a sentence why"
