"""The tables of an analysis snapshot: the only names a rule may read (docs/analysis.md).

Person identifiers, account numbers and decision references appear only as keyed pseudonyms
(``*_key``); names and addresses never appear; birth dates are cut to the month."""

from __future__ import annotations

import pyarrow as pa

KEY = pa.string()  # a pseudonym: 32 hex digits of HMAC-SHA256

SNAPSHOT_TABLES: dict[str, pa.Schema] = {
    "payments": pa.schema(
        [
            ("payment_id", pa.int64()),
            ("payer_id", pa.int64()),
            ("payee_key", KEY),
            ("payee_kind", pa.string()),  # person / organisation
            ("benefit", pa.string()),
            ("amount_minor", pa.int64()),
            ("currency", pa.string()),
            ("decision_key", KEY),
            ("period_start", pa.date32()),
            ("period_end", pa.date32()),
            ("period_month", pa.date32()),  # the first day of period_start's month
            ("due_date", pa.date32()),
            ("account_key", KEY),
            ("status", pa.string()),
        ]
    ),
    "persons": pa.schema(
        [
            ("person_key", KEY),
            ("previous_key", KEY),  # the person's earlier samordningsnummer, pseudonymised
            ("sex", pa.string()),
            ("birth_month", pa.date32()),
            ("death_date", pa.date32()),
            ("emigration_date", pa.date32()),
            ("immigration_date", pa.date32()),
            ("household_key", KEY),
            ("municipality_code", pa.string()),
            ("region_code", pa.string()),  # the county (län): the municipality code's first two digits
            ("residence_permit_until", pa.date32()),
        ]
    ),
    "income": pa.schema(
        [
            ("person_key", KEY),
            ("employer_key", KEY),
            ("month", pa.date32()),
            ("amount_minor", pa.int64()),
        ]
    ),
    "decisions": pa.schema(
        [
            ("decision_key", KEY),
            ("payer_id", pa.int64()),
            ("payee_key", KEY),
            ("benefit", pa.string()),
            ("period_start", pa.date32()),
            ("period_end", pa.date32()),
            ("amount_minor", pa.int64()),
            ("currency", pa.string()),
            ("household_size", pa.int32()),
            ("declared_income_minor", pa.int64()),
        ]
    ),
    "benefits": pa.schema(
        [
            ("code", pa.string()),
            ("kind", pa.string()),
            ("level", pa.string()),
            ("residence_conditioned", pa.bool_()),
            ("income_replacing", pa.bool_()),
            ("means_tested", pa.bool_()),
        ]
    ),
    # Who acts for whom (trustees, administrators, guardians) and when, from the register of representatives
    "representations": pa.schema(
        [
            ("representative_key", KEY),
            ("represented_key", KEY),
            ("basis", pa.string()),
            ("valid_from", pa.date32()),
            ("valid_until", pa.date32()),
        ]
    ),
    # Splink's links between a personnummer and another identifier of the same person (linkage.py)
    "person_links": pa.schema([("person_key", KEY), ("linked_key", KEY), ("match_probability", pa.float64())]),
    # Splink's links between a Swedish organisation number and another number of the same organisation
    "organisation_links": pa.schema(
        [("organisation_key", KEY), ("linked_key", KEY), ("match_probability", pa.float64())]
    ),
    # What institutions abroad told this node about a person (received SEDs, saldo.eessi): a death
    # (start_date = the date of death), a benefit paid abroad for a period, a residence abroad since
    # start_date. benefit_type is the EESSI benefit type; country and institution say who told it.
    "cross_border_facts": pa.schema(
        [
            ("person_key", KEY),
            ("kind", pa.string()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
            ("benefit_type", pa.string()),
            ("country", pa.string()),
            ("institution", pa.string()),
        ]
    ),
    "benefit_exclusions": pa.schema([("benefit", pa.string()), ("excluded_benefit", pa.string())]),
    "payers": pa.schema([("payer_id", pa.int64()), ("kind", pa.string()), ("connection_model", pa.string())]),
}
RESULT_COLUMNS = ("subject_key", "payment_ids", "amount_at_risk_minor", "currency")
