"""Identity linkage with Splink on FEBRL4.

Targets (issue: data analysis): FEBRL4 train + predict in under 15 s; >= 500,000 comparisons/s on 2
cores; F1 >= 0.995 with precision >= 0.999.

    uv run python benchmarks/linkage.py [--runs 3]

1. Train the person model without labels and link FEBRL4 (5,000 x 5,000 records), scored against its
   true links: the seconds of training and of prediction, precision, recall and F1.
2. Scoring throughput: the committed model scores every pair of records in the same state (about
   7 million pairs, far more than the model's blocking rules generate), counted and timed."""

from __future__ import annotations

import argparse
import time

from benchmarks.common import median, report
from saldo.analysis.linkage import febrl4, load_model, make_linker, score_febrl4


def throughput() -> tuple[int, float]:
    left, right, _ = febrl4()
    model = load_model()
    model["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": 'l."state" = r."state"', "sql_dialect": "duckdb"}
    ]
    pairs = int((left["state"].value_counts() * right["state"].value_counts()).fillna(0).sum())
    linker = make_linker(left, right, model)
    started = time.perf_counter()
    linker.inference.predict(threshold_match_probability=0.9).as_pandas_dataframe()
    return pairs, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    scores = [score_febrl4() for _ in range(runs)]
    rates = [throughput() for _ in range(runs)]
    last = scores[-1]
    report(
        "linkage, FEBRL4",
        {
            "train (s)": round(median([s.train_seconds for s in scores]), 2),
            "predict (s)": round(median([s.predict_seconds for s in scores]), 2),
            "train + predict (s)": round(median([s.train_seconds + s.predict_seconds for s in scores]), 2),
            "precision": round(last.precision, 4),
            "recall": round(last.recall, 4),
            "F1": round(last.f1, 4),
            "links": last.links,
            "pairs scored in the throughput run": rates[-1][0],
            "comparisons/s": round(median([pairs / seconds for pairs, seconds in rates])),
        },
    )


if __name__ == "__main__":
    main()
