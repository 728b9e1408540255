from __future__ import annotations


class DecisionFileTooLargeError(Exception):
    """A decision upload larger than the size limit."""


class DecisionFileEmptyError(Exception):
    """A decision upload without a body."""
