"""Identity linkage with Splink on FEBRL4.

Targets (issue: data analysis): FEBRL4 train + predict in under 15 s; >= 500,000 comparisons/s on 2
cores; F1 >= 0.995 with precision >= 0.999.

    uv run python -m benchmarks.linkage [--runs 3] [--engine duckdb|spark]

1. Train the person model without labels and link FEBRL4 (5,000 x 5,000 records), scored against its
   true links: the seconds of training and of prediction, precision, recall and F1.
2. Scoring throughput: the committed model scores every pair of records in the same state (about
   7 million pairs, far more than the model's blocking rules generate), counted and timed.

With ``--engine spark`` the committed model links FEBRL4 on Spark in local mode (2 cores) and must
give DuckDB's links; the first, untimed run starts the JVM. Training and the all-pairs throughput
run are DuckDB's only: on Spark in local mode they had not finished after 12 minutes here."""

from __future__ import annotations

import argparse
import time

from benchmarks.common import median, report
from saldo.analysis.service.linkage import load_model, make_linker
from saldo.synthetic.febrl import febrl4, score_febrl4


def throughput(engine: str) -> tuple[int, float]:
    left, right, _ = febrl4()
    model = load_model()
    model["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": 'l."state" = r."state"', "sql_dialect": "duckdb"}
    ]
    pairs = int((left["state"].value_counts() * right["state"].value_counts()).fillna(0).sum())
    linker = make_linker(left, right, model, engine)
    started = time.perf_counter()
    linker.inference.predict(threshold_match_probability=0.9).as_pandas_dataframe()
    return pairs, time.perf_counter() - started


def spark(runs: int) -> None:
    """The committed model linking FEBRL4 on Spark in local mode: the links must be DuckDB's."""
    on_duckdb = score_febrl4(load_model())
    score_febrl4(load_model(), "spark")  # starts the JVM and loads Splink's jar, untimed
    scores = [score_febrl4(load_model(), "spark") for _ in range(runs)]
    last = scores[-1]
    assert (last.links, last.true_positives) == (on_duckdb.links, on_duckdb.true_positives)
    report(
        "linkage, FEBRL4, Spark local[2]",
        {
            "predict (s)": round(median([s.predict_seconds for s in scores]), 2),
            "predict on DuckDB (s)": round(on_duckdb.predict_seconds, 2),
            "precision": round(last.precision, 4),
            "recall": round(last.recall, 4),
            "F1": round(last.f1, 4),
            "links": last.links,
            "pairs scored": last.comparisons,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    args = parser.parse_args()
    runs, engine = args.runs, args.engine
    if engine == "spark":
        spark(runs)
        return
    scores = [score_febrl4(engine=engine) for _ in range(runs)]
    rates = [throughput(engine) for _ in range(runs)]
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
