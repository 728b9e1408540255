"""The payment record every channel shares (JSON, NDJSON, CSV, single API call) and its validation.

One validator, used by every path, so a payment accepted by the API is accepted in a file and the
other way round. Expensive checks (check digits, IBAN) are cached per distinct value: a nightly file
names the same payees and dates over and over.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from saldo.benefits.models import BenefitKind
from saldo.kit.account_number import AccountScheme, InvalidAccountError, normalize_account
from saldo.kit.money import CURRENCY_EXPONENTS
from saldo.kit.national_id import IdKind, IdScheme, InvalidIdentifierError, kind_of, normalize_identifier

FIELDS: tuple[str, ...] = (
    "reference",
    "payee_scheme",
    "payee_id",
    "payee_name",
    "benefit",
    "amount_minor",
    "currency",
    "decision_reference",
    "period_start",
    "period_end",
    "due_date",
    "account_scheme",
    "account",
    "remittance_info",
)
OPTIONAL_FIELDS = frozenset({"remittance_info"})
REQUIRED_FIELDS: tuple[str, ...] = tuple(f for f in FIELDS if f not in OPTIONAL_FIELDS)
FIELD_SET = frozenset(FIELDS)

REFERENCE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/\-]{0,63}")
MAX_NAME = 140  # pain.001 creditor name is Max140Text
MAX_DECISION_REFERENCE = 64
MAX_REMITTANCE = 140  # pain.001 unstructured remittance is Max140Text
MAX_PERIOD_DAYS = 366  # the longest period one payment covers: a (leap) year of an annual grant
EARLIEST_DATE = dt.date(2000, 1, 1)  # nothing Saldo mediates refers to the last century
DUE_DATE_HORIZON_DAYS = 400  # a payer registers at most about a year ahead

# Who may receive which kind of payment: benefits go to persons, grants and fees to organisations.
PAYEE_KIND_FOR_BENEFIT: dict[BenefitKind, IdKind] = {
    BenefitKind.ECONOMIC_BENEFIT: IdKind.PERSON,
    BenefitKind.ECONOMIC_SUPPORT: IdKind.PERSON,
    BenefitKind.ASSOCIATION_GRANT: IdKind.ORGANISATION,
    BenefitKind.SCHOOL_PROVIDER: IdKind.ORGANISATION,
    BenefitKind.PRIVATE_CONTRACTOR: IdKind.ORGANISATION,
}


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class BenefitRule:
    id: int
    kind: BenefitKind


@dataclass(frozen=True, slots=True)
class ValidPayment:
    reference: str
    payee_scheme: str
    payee_identifier: str
    payee_name: str
    benefit_id: int
    amount_minor: int
    currency: str
    decision_reference: str
    period_start: dt.date
    period_end: dt.date
    due_date: dt.date
    account_scheme: str
    account_number: str
    remittance_info: str | None

    @property
    def payee_key(self) -> tuple[str, str]:
        return (self.payee_scheme, self.payee_identifier)

    def content(self, payee_id: int) -> tuple[object, ...]:
        """Everything but the reference, in a fixed order: two payments are the same when this is."""
        return (
            payee_id,
            self.payee_name,
            self.benefit_id,
            self.amount_minor,
            self.currency,
            self.decision_reference,
            self.period_start,
            self.period_end,
            self.due_date,
            self.account_scheme,
            self.account_number,
            self.remittance_info,
        )


class RecordRejectedError(ValueError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors


@lru_cache(maxsize=100_000)
def _parse_date(text: str) -> dt.date:
    if len(text) != 10:  # date.fromisoformat also takes 20260105; files must use 2026-01-05
        raise ValueError
    return dt.date.fromisoformat(text)


_ID_SCHEMES = {s.value: (s, kind_of(s)) for s in IdScheme}
_ACCOUNT_SCHEMES = {s.value: s for s in AccountScheme}


def _identifier(scheme: str, number: str) -> tuple[str, IdKind] | str:
    known = _ID_SCHEMES.get(scheme)
    if known is None:
        return f"unknown identifier scheme {scheme!r}; use one of {', '.join(_ID_SCHEMES)}"
    try:
        return normalize_identifier(known[0], number), known[1]
    except InvalidIdentifierError as exc:
        return str(exc)


def _account(scheme: str, number: str) -> tuple[str, str] | str:
    account_scheme = _ACCOUNT_SCHEMES.get(scheme)
    if account_scheme is None:
        return f"unknown account scheme {scheme!r}; use one of {', '.join(_ACCOUNT_SCHEMES)}"
    try:
        account = normalize_account(account_scheme, number)
    except InvalidAccountError as exc:
        return str(exc)
    return account.scheme.value, account.number


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return None


class RecordValidator:
    """Validates payment records for one payer against the catalogue and Saldo's limits."""

    def __init__(
        self,
        *,
        catalogue: Mapping[str, BenefitRule],
        permitted: frozenset[str],
        currencies: frozenset[str],
        max_amount_minor: int,
        today: dt.date,
    ) -> None:
        self.catalogue = catalogue
        self.permitted = permitted
        self.currencies = currencies
        self.max_amount_minor = max_amount_minor
        self.latest_period = today.replace(year=today.year + 2) if (today.month, today.day) != (2, 29) else today
        self.due_from = today - dt.timedelta(days=DUE_DATE_HORIZON_DAYS)
        self.due_until = today + dt.timedelta(days=DUE_DATE_HORIZON_DAYS)

    def validate(self, record: Mapping[str, object]) -> ValidPayment:
        """Return the normalised payment or raise RecordRejectedError listing every bad field."""
        accepted = self._accept_plain(record)
        return accepted if accepted is not None else self._check_all(record)

    @staticmethod
    def parse_date_or_none(text: object) -> dt.date | None:
        """A date field's value under this validator's rules, or None when it is not one."""
        if type(text) is not str:
            return None
        try:
            parsed = _parse_date(text)
        except ValueError:
            return None
        return parsed if parsed >= EARLIEST_DATE else None

    def _accept_plain(self, record: Mapping[str, object]) -> ValidPayment | None:  # noqa: PLR0911, PLR0912
        """The payment when every field is already in canonical form and valid; None to take the
        full checklist (which then names each fault). Straight-line code: this runs for every row of
        every nightly file. tests/payments/test_records.py holds both paths to the same verdict."""
        if not FIELD_SET.issuperset(record):
            return None
        get = record.get
        reference, payee_name, decision_reference = get("reference"), get("payee_name"), get("decision_reference")
        if not (
            type(reference) is str
            and type(payee_name) is str
            and type(decision_reference) is str
            and REFERENCE_PATTERN.fullmatch(reference)
            and 0 < len(payee_name) <= MAX_NAME
            and 0 < len(decision_reference) <= MAX_DECISION_REFERENCE
            and payee_name.isprintable()
            and decision_reference.isprintable()
            and payee_name == payee_name.strip()
            and decision_reference == decision_reference.strip()
        ):
            return None
        scheme, payee_id, account_scheme, account = (
            get("payee_scheme"),
            get("payee_id"),
            get("account_scheme"),
            get("account"),
        )
        if type(scheme) is not str or type(payee_id) is not str or type(account_scheme) is not str:
            return None
        if type(account) is not str:
            return None
        payee = _identifier(scheme, payee_id)
        if type(payee) is not tuple or payee[0] != payee_id:
            return None
        bank = _account(account_scheme, account)
        if type(bank) is not tuple or bank[1] != account:
            return None
        benefit = get("benefit")
        rule = self.catalogue.get(benefit) if type(benefit) is str else None
        if rule is None or benefit not in self.permitted or PAYEE_KIND_FOR_BENEFIT[rule.kind] is not payee[1]:
            return None
        amount = get("amount_minor")
        if type(amount) is str and amount.isascii() and amount.isdigit():
            amount = int(amount)
        if type(amount) is not int or not 0 < amount <= self.max_amount_minor:
            return None
        currency = get("currency")
        if currency not in self.currencies:
            return None
        try:
            start = _parse_date(get("period_start"))
            end = _parse_date(get("period_end"))
            due = _parse_date(get("due_date"))
        except (TypeError, ValueError):
            return None
        if not (
            EARLIEST_DATE <= start <= end
            and (end - start).days < MAX_PERIOD_DAYS
            and start <= self.latest_period
            and self.due_from <= due <= self.due_until
        ):
            return None
        remittance = get("remittance_info")
        if remittance == "":
            remittance = None
        elif remittance is not None and not (
            type(remittance) is str
            and len(remittance) <= MAX_REMITTANCE
            and remittance.isprintable()
            and remittance == remittance.strip()
        ):
            return None
        return ValidPayment(
            reference,
            scheme,
            payee_id,
            payee_name,
            rule.id,
            amount,
            currency,
            decision_reference,
            start,
            end,
            due,
            account_scheme,
            account,
            remittance,
        )

    def _check_all(self, record: Mapping[str, object]) -> ValidPayment:  # noqa: PLR0912, PLR0915 — one flat checklist reads best
        errors: list[FieldError] = []
        add = errors.append
        unknown = record.keys() - FIELD_SET
        for name in sorted(unknown):
            add(FieldError(name, "unknown field"))

        reference = _text(record.get("reference"))
        if reference is None:
            add(FieldError("reference", "required"))
        elif not REFERENCE_PATTERN.fullmatch(reference):
            add(
                FieldError(
                    "reference", "1 to 64 characters: letters, digits and . _ : / - (starting with a letter or digit)"
                )
            )

        payee_scheme, payee_raw = _text(record.get("payee_scheme")), _text(record.get("payee_id"))
        payee: tuple[str, IdKind] | str | None = None
        if payee_scheme is None:
            add(FieldError("payee_scheme", "required"))
        if payee_raw is None:
            add(FieldError("payee_id", "required"))
        if payee_scheme is not None and payee_raw is not None:
            payee = _identifier(payee_scheme, payee_raw)
            if isinstance(payee, str):
                field = "payee_scheme" if payee.startswith("unknown identifier scheme") else "payee_id"
                add(FieldError(field, payee))

        payee_name = _text(record.get("payee_name"))
        if payee_name is None:
            add(FieldError("payee_name", "required"))
        elif len(payee_name) > MAX_NAME or not payee_name.isprintable():
            add(FieldError("payee_name", f"at most {MAX_NAME} printable characters"))

        benefit_code = _text(record.get("benefit"))
        rule: BenefitRule | None = None
        if benefit_code is None:
            add(FieldError("benefit", "required"))
        elif (rule := self.catalogue.get(benefit_code)) is None:
            add(FieldError("benefit", f"unknown benefit code {benefit_code!r}"))
        elif benefit_code not in self.permitted:
            add(FieldError("benefit", f"this payer is not registered to pay benefit {benefit_code!r}"))
            rule = None
        if rule is not None and isinstance(payee, tuple) and PAYEE_KIND_FOR_BENEFIT[rule.kind] is not payee[1]:
            expected = PAYEE_KIND_FOR_BENEFIT[rule.kind].value
            add(
                FieldError(
                    "payee_id",
                    f"benefit {benefit_code!r} is paid to an {expected}, not a {payee[1].value}"
                    if expected == "organisation"
                    else f"benefit {benefit_code!r} is paid to a {expected}, not an {payee[1].value}",
                )
            )

        amount = self._amount(record.get("amount_minor"), add)

        currency = _text(record.get("currency"))
        if currency is None:
            add(FieldError("currency", "required"))
        elif currency not in self.currencies:
            known = currency in CURRENCY_EXPONENTS or (len(currency) == 3 and currency.isalpha() and currency.isupper())
            reason = (
                f"Saldo mediates payments in {', '.join(sorted(self.currencies))} only; got {currency}"
                if known
                else f"{currency!r} is not an ISO 4217 currency code"
            )
            add(FieldError("currency", reason))

        decision_reference = _text(record.get("decision_reference"))
        if decision_reference is None:
            add(FieldError("decision_reference", "required"))
        elif len(decision_reference) > MAX_DECISION_REFERENCE or not decision_reference.isprintable():
            add(FieldError("decision_reference", f"at most {MAX_DECISION_REFERENCE} printable characters"))

        period_start = self._date(record, "period_start", add)
        period_end = self._date(record, "period_end", add)
        due_date = self._date(record, "due_date", add)
        if period_start is not None and period_end is not None:
            if period_end < period_start:
                add(FieldError("period_end", "the period ends before it starts"))
            elif (period_end - period_start).days >= MAX_PERIOD_DAYS:
                add(FieldError("period_end", f"one payment covers at most {MAX_PERIOD_DAYS} days"))
            if period_start > self.latest_period:
                add(FieldError("period_start", "the period starts more than two years from now"))
        if due_date is not None and not (self.due_from <= due_date <= self.due_until):
            add(FieldError("due_date", f"must be within {DUE_DATE_HORIZON_DAYS} days of today"))

        account_scheme, account_raw = _text(record.get("account_scheme")), _text(record.get("account"))
        account: tuple[str, str] | str | None = None
        if account_scheme is None:
            add(FieldError("account_scheme", "required"))
        if account_raw is None:
            add(FieldError("account", "required"))
        if account_scheme is not None and account_raw is not None:
            account = _account(account_scheme, account_raw)
            if isinstance(account, str):
                add(
                    FieldError("account_scheme" if account.startswith("unknown account scheme") else "account", account)
                )

        remittance = record.get("remittance_info")
        remittance_info = _text(remittance)
        if remittance is not None and not isinstance(remittance, str):
            add(FieldError("remittance_info", "must be text"))
        elif remittance_info is not None and (
            len(remittance_info) > MAX_REMITTANCE or not remittance_info.isprintable()
        ):
            add(FieldError("remittance_info", f"at most {MAX_REMITTANCE} printable characters"))

        if errors:
            raise RecordRejectedError(errors)
        # No errors means every field was read; these narrow the types for the checker.
        assert isinstance(payee, tuple)
        assert isinstance(account, tuple)
        assert reference is not None
        assert payee_name is not None
        assert rule is not None
        assert amount is not None
        assert currency is not None
        assert decision_reference is not None
        assert period_start is not None
        assert period_end is not None
        assert due_date is not None
        return ValidPayment(
            reference=reference,
            payee_scheme=payee_scheme or "",
            payee_identifier=payee[0],
            payee_name=payee_name,
            benefit_id=rule.id,
            amount_minor=amount,
            currency=currency,
            decision_reference=decision_reference,
            period_start=period_start,
            period_end=period_end,
            due_date=due_date,
            account_scheme=account[0],
            account_number=account[1],
            remittance_info=remittance_info,
        )

    def _amount(self, value: object, add: Callable[[FieldError], None]) -> int | None:
        report = add
        if value is None or value == "":
            report(FieldError("amount_minor", "required"))
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            report(FieldError("amount_minor", "a whole number of minor units (öre), e.g. 125000 for 1 250.00"))
            return None
        if isinstance(value, str):
            text = value.strip()
            if not text.lstrip("-").isdigit() or not text.isascii():
                report(FieldError("amount_minor", "a whole number of minor units (öre), e.g. 125000 for 1 250.00"))
                return None
            value = int(text)
        if value <= 0:
            report(FieldError("amount_minor", "must be greater than zero"))
            return None
        if value > self.max_amount_minor:
            report(
                FieldError("amount_minor", f"larger than the {self.max_amount_minor} minor-unit limit for one payment")
            )
            return None
        return value

    @staticmethod
    def _date(record: Mapping[str, object], field: str, add: Callable[[FieldError], None]) -> dt.date | None:
        report = add
        value = record.get(field)
        text = _text(value)
        if text is None:
            report(FieldError(field, "required" if value is None or value == "" else "a date, YYYY-MM-DD"))
            return None
        try:
            parsed = _parse_date(text)
        except ValueError:
            report(FieldError(field, f"{text!r} is not a calendar date in the form YYYY-MM-DD"))
            return None
        if parsed < EARLIEST_DATE:
            report(FieldError(field, f"dates before {EARLIEST_DATE.isoformat()} are not accepted"))
            return None
        return parsed
