"""Data categories Saldo never stores, exports or asks for, with the reason (DESIGN.md, Principles).

Health and patient-confidential data are exempt from information requests and analysis
(SOU 2025:20; Region Stockholm's reply). Citizenship, nationality, country of birth, ethnicity and
religion are never inputs to an analysis: they invite proxy discrimination (Amnesty International on
Denmark's "Model Abroad"; the Dutch SyRI ruling)."""

from __future__ import annotations

HEALTH = "patient-confidential health data is exempt from the analysis and from information requests"
PROXY = "a protected attribute: it invites proxy discrimination and is never an analysis input"

EXCLUDED_CATEGORIES: dict[str, str] = {
    "citizenship": PROXY,
    "nationality": PROXY,
    "country_of_birth": PROXY,
    "birth_country": PROXY,
    "place_of_birth": PROXY,
    "ethnicity": PROXY,
    "ethnic_origin": PROXY,
    "religion": PROXY,
    "religious_affiliation": PROXY,
    "mother_tongue": PROXY,
    "language": PROXY,
    "diagnosis": HEALTH,
    "diagnosis_code": HEALTH,
    "health": HEALTH,
    "health_status": HEALTH,
    "medical_record": HEALTH,
    "patient_record": HEALTH,
    "treatment": HEALTH,
    "disability": HEALTH,
}


def excluded_reason(name: str) -> str | None:
    """Why a column or field called ``name`` may never enter Saldo's analysis, or None when it may."""
    key = name.strip().lower()
    if key in EXCLUDED_CATEGORIES:
        return EXCLUDED_CATEGORIES[key]
    for category, reason in EXCLUDED_CATEGORIES.items():
        if key.startswith(category + "_") or key.endswith("_" + category):
            return reason
    return None
