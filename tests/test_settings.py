"""Settings refuse contradictory values at start-up rather than misbehaving later."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from saldo.settings import Settings


def test_a_close_match_threshold_above_the_match_threshold_is_refused() -> None:
    with pytest.raises(ValidationError, match="must not be above"):
        Settings(vop_match_threshold=80, vop_close_match_threshold=90)


def test_thresholds_outside_0_to_100_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(vop_match_threshold=101)
