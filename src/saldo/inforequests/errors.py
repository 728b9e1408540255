from __future__ import annotations

from saldo.kit.problem import ProblemError


class RequestError(ProblemError):
    """Base of the information requests domain's errors."""


class CategoryRefusedError(RequestError):
    """A requested data category is exempt (patient-confidential), excluded, or unknown."""

    status = 422
    error = "category_refused"


class RequestNotFoundError(RequestError, LookupError):
    """No information request with this id for this payer."""

    status = 404
    error = "not_found"


class RequestStateError(RequestError):
    """The request cannot change so: it is answered or withdrawn, or the answer does not fit it."""

    status = 409
    error = "request_state"


class InvalidAnswerError(RequestError, ValueError):
    """An answer's data does not fit the shape of its category, or carries an excluded category."""

    status = 422
    error = "invalid_answer"
