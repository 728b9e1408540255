"""Words the pages look up for codes (a payment's status, an account check, a group, what staff did
with a person's data and in which role), translated once
per language when the language's template environment is built, not on every page: a page looked
them up about twenty times, each a trip through Jinja's gettext (docs/benchmarks.md)."""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 — gettext's marker for a message translated later
    return message


STATUS_WORDS = {
    "registered": N_("Registered"),
    "verified": N_("Account checked"),
    "scheduled": N_("Scheduled"),
    "sent": N_("Sent to your bank"),
    "settled": N_("Paid out"),
    "returned": N_("Returned by the bank"),
    "rejected": N_("Rejected by the bank"),
    "held": N_("Held"),
    "cancelled": N_("Cancelled by the payer"),
    "reported": N_("Paid by the payer directly"),
}
CHECK_WORDS = {
    "passed": N_("passed"),
    "account_unknown": N_("account unknown to the register"),
    "account_closed": N_("account closed"),
    "not_holder": N_("you do not hold the account"),
    "not_designated": N_("not your designated account"),
}
GROUP_WORDS = {
    "upcoming": N_("Upcoming"),
    "held": N_("Held"),
    "paid": N_("Paid"),
    "not_paid": N_("Not paid"),
    "cancelled": N_("Cancelled"),
}
ACTION_WORDS = {
    "re_identify": N_("Identified you behind a finding and opened a case"),
    "read_case": N_("Read a case about you"),
    "read_case_without_role": N_("Read a case about you without working it"),
    "read_answer": N_("Read a payer's answer about you"),
    "read_answer_without_role": N_("Read a payer's answer about you without working the case"),
    "disclose_to_payer": N_("Told a payer that pays you about the case"),
    "assist_start": N_("Began serving you in the assisted service"),
    "read_overview": N_("Looked at your payments with you"),
    "designate_account": N_("Changed your account for public payments with you"),
    "read_credential": N_("Looked at your PDA1 or European Health Insurance Card"),
    "read_application": N_("Read your application"),
    "read_applications": N_("Looked at your applications with you"),
    "apply": N_("Sent an application with you"),
    "withdraw_application": N_("Withdrew your application with you"),
    "read_foreign_eids": N_("Looked at your eIDs of other countries with you"),
    "link_foreign_eid": N_("Linked an eID of another country to you, having seen your identity document"),
    "remove_foreign_eid": N_("Removed an eID of another country from your pages with you"),
    "release_evidence": N_("Was sent the evidence you saw and approved"),
    "receive_evidence": N_("Sent the evidence you asked for"),
    "read_evidence": N_("Looked at evidence from another country with you"),
    "fetch_evidence": N_("Asked an authority abroad for evidence with you"),
    "withdraw_evidence": N_("Withdrew a request for evidence with you"),
    "preview_evidence": N_("Looked at evidence asked for from abroad with you"),
}
# Saldo itself, where it acted in a history (saldo.payments.service.actors, kind SYSTEM)
SYSTEM_ACTOR_WORDS = {
    "account-check": N_("Saldo's account check"),
    "payment-run": N_("Saldo's payment run"),
    "scheduled-analysis": N_("Saldo's nightly analysis"),
}
ROLE_WORDS = {
    "analyst": N_("Analyst"),
    "auditor": N_("Auditor"),
    "supervisor": N_("Supervisor"),
    "caseworker": N_("Caseworker"),
    "log_auditor": N_("Log auditor"),
    "issuer": N_("Credential issuer"),
}
# Who else reads or receives a person's data, as the access log names them beside staff roles
OTHER_READER_WORDS = {
    "abroad": N_("Authority in another country"),  # evidence sent once only, with the person's approval
}
# A payment's status as the payer and staff read it (the citizen's words above speak to the payee)
PAYMENT_STATUS_WORDS = {
    "registered": N_("Registered"),
    "verified": N_("Account checked"),
    "scheduled": N_("Scheduled"),
    "sent": N_("Sent to the bank"),
    "settled": N_("Paid out"),
    "returned": N_("Returned by the bank"),
    "rejected": N_("Rejected by the bank"),
    "held": N_("Held"),
    "cancelled": N_("Cancelled"),
    "reported": N_("Paid directly by the payer"),
}
CASE_STATUS_WORDS = {
    "open": N_("Open, nobody working it yet"),
    "in_progress": N_("In progress"),
    "awaiting_information": N_("Awaiting information"),
    "notified": N_("Payers notified"),
    "closed": N_("Closed"),
}
BENEFIT_TYPE_WORDS = {  # the benefit types an H001 asks about (saldo.eessi.service.seds.BENEFIT_TYPES)
    "old_age": N_("Old-age pension"),
    "invalidity": N_("Invalidity benefit"),
    "survivor": N_("Survivor's benefit"),
    "sickness": N_("Sickness benefit"),
    "unemployment": N_("Unemployment benefit"),
    "family": N_("Family benefit"),
    "parental": N_("Parental benefit"),
    "other": N_("Other benefit"),
}
CASE_EVENT_WORDS = {
    "opened": N_("Opened"),
    "assigned": N_("Assigned"),
    "status": N_("Status changed"),
    "deadline": N_("Deadline set"),
    "note": N_("Note"),
    "evidence": N_("Evidence added"),
    "request_sent": N_("Information request sent"),
    "answer_received": N_("Answer received"),
    "notified": N_("Payers notified"),
    "outcome": N_("Outcome recorded"),
}
REQUEST_STATUS_WORDS = {
    "open": N_("Awaiting the answer"),
    "answered": N_("Answered"),
    "withdrawn": N_("Withdrawn"),
}
OUTCOME_WORDS = {
    "no_error": N_("No error found"),
    "corrected": N_("Corrected"),
    "recovery_claim": N_("Claimed back"),
    "payment_stopped": N_("Payment stopped"),
    "reported_to_police": N_("Reported to the police"),
}
# What waits for someone at the authority (saldo.oversight.service.next_steps.waiting_work)
WAITING_WORDS = {
    "to_triage": N_("Selected findings to triage"),
    "unassigned": N_("Open cases nobody is assigned"),
    "to_work": N_("Your cases to work"),
    "answered": N_("Your cases with a payer's answer to read"),
    "overdue": N_("Your cases past their deadline"),
    "to_close": N_("Your notified cases with every outcome in, to close"),
    "cross_border_to_confirm": N_("Cross-border cases whose person waits to be confirmed"),
    "cross_border_undeliverable": N_("Cross-border documents that could not be delivered"),
}
# A case's next step (saldo.oversight.service.next_steps.case_next_step); %(deadline)s, %(done)s, %(total)s
NEXT_STEP_WORDS = {
    "take": N_("Nobody works this case yet: an auditor takes it, or a supervisor assigns it."),
    "investigate": N_(
        "Read the findings and the payments. If the case needs facts only a payer has, ask that payer; if "
        "the finding holds, notify the paying payers; if it does not, close the case and say why."
    ),
    "wait_answer": N_(
        "An information request is out; the answer is due %(deadline)s. Saldo reminds the payer before then."
    ),
    "answer_overdue": N_(
        "The answer was due %(deadline)s and has not come. Saldo has reminded the payer: contact them, or "
        "withdraw the request and go on without it."
    ),
    "read_answer": N_(
        "A payer has answered: read the answer, then notify the paying payers if the finding holds, or close "
        "the case and say why."
    ),
    "wait_outcomes": N_(
        "The paying payers are notified; %(done)s of %(total)s have recorded their outcome. Close the case "
        "when all have."
    ),
    "close": N_("Every notified payer has recorded its outcome: close the case."),
}
