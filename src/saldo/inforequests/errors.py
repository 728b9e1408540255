from __future__ import annotations


class RequestError(Exception):
    """Base of the information requests domain's errors."""


class CategoryRefusedError(RequestError):
    """A requested data category is exempt (patient-confidential), excluded, or unknown."""


class RequestNotFoundError(RequestError, LookupError):
    """No information request with this id for this payer."""


class RequestStateError(RequestError):
    """The request cannot change so: it is answered or withdrawn, or the answer does not fit it."""


class InvalidAnswerError(RequestError, ValueError):
    """An answer's data does not fit the shape of its category, or carries an excluded category."""
