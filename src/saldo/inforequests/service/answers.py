"""What an answer may carry for each data category: free text, or the category's own structured
form — nothing else. A field whose name is an excluded category (health, diagnosis, religion ...)
is refused wherever it appears, so an answer cannot bring into Saldo what a request may not ask."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from saldo.inforequests.errors import InvalidAnswerError
from saldo.kit.data_categories import excluded_reason
from saldo.kit.dates import IsoDate

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Month = Annotated[str, StringConstraints(pattern=r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$")]
Amount = Annotated[int, Field(ge=0, le=10**12)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class MonthlyAmount(_Row):
    month: Month
    amount_minor: Amount
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "SEK"


class Household(_Row):
    adults: Annotated[int, Field(ge=1, le=20)]
    children: Annotated[int, Field(ge=0, le=30)]


class Address(_Row):
    address: Short
    valid_from: IsoDate
    valid_to: IsoDate | None = None


class PaymentAccount(_Row):
    account: Short
    valid_from: IsoDate
    requested_by: Short | None = None


class Employment(_Row):
    employer: Short
    hours_per_week: Annotated[float, Field(ge=0, le=80)] | None = None
    valid_from: IsoDate
    valid_to: IsoDate | None = None


class IdentityDocument(_Row):
    document: Short
    checked_on: IsoDate


_STRUCTURED: dict[str, Any] = {
    "declared_income": list[MonthlyAmount],
    "household": Household,
    "address_history": list[Address],
    "payment_account_history": list[PaymentAccount],
    "employment": list[Employment],
    "housing_costs": list[MonthlyAmount],
    "identity_documents": list[IdentityDocument],
}
SHAPES: dict[str, TypeAdapter[Any]] = {code: TypeAdapter(shape) for code, shape in _STRUCTURED.items()}
TEXT_ONLY: TypeAdapter[str] = TypeAdapter(Text)
_AS_JSON: TypeAdapter[Any] = TypeAdapter(Any)  # a checked value as the JSON the answer stores


def check_answer_data(data: dict[str, Any]) -> dict[str, Any]:
    """The answer's data, each category's value checked against its shape (InvalidAnswerError)."""
    checked: dict[str, Any] = {}
    for category, value in data.items():
        _refuse_excluded(value, category)
        try:
            shape = TEXT_ONLY if isinstance(value, str) else SHAPES.get(category, TEXT_ONLY)
            parsed = shape.validate_python(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in (category, *first["loc"]))
            reason = str(first["msg"]).removeprefix("Value error, ")
            raise InvalidAnswerError(
                f"data: {where}: {reason} (a category takes text, or its form in docs/audit.md)"
            ) from exc
        checked[category] = _AS_JSON.dump_python(parsed, mode="json")
    return checked


def _refuse_excluded(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            reason = excluded_reason(str(key))
            if reason is not None:
                raise InvalidAnswerError(f"data: {where}.{key}: {reason}; it is never taken into Saldo")
            _refuse_excluded(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            _refuse_excluded(inner, f"{where}.{n}")
