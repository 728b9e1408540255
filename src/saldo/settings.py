"""The one typed Settings object; the only place in Saldo that reads the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, HttpUrl, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")  # this machine, as a Host header may name it


def child_environment(overrides: dict[str, str]) -> dict[str, str]:
    """The environment of a Saldo process this one starts: this process's own without its SALDO_
    settings, and ``overrides`` (the child's settings)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")} | overrides


class KeyPair(BaseModel):
    """A private key and its certificate, both PEM files."""

    model_config = {"extra": "forbid"}

    key: Path
    certificate: Path


class OidcProviderSettings(BaseModel):
    """One eID provider Saldo's pages log people in with (OpenID Connect, authorization code + PKCE)."""

    model_config = {"extra": "forbid"}

    name: str = Field(pattern="^[a-z0-9-]{1,32}$", description="Short name, used in the callback URL.")
    label: str = Field(min_length=1, max_length=80, description="What the login button says.")
    issuer: HttpUrl = Field(description="The provider's issuer; its discovery document is read from there.")
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    audience: str = Field(
        default="citizen",
        pattern="^(citizen|staff|payer)$",
        description=(
            "Who logs in here: `citizen` (payees), `staff` (the authority's people) or `payer` (people working "
            "for a connected payer); staff and payer users are matched by identifier."
        ),
    )
    scopes: list[str] = Field(
        default=["openid", "profile", "https://id.oidc.se/scope/naturalPersonNumber"],
        description="Scopes asked for.",
    )
    identifier_claim: str = Field(
        default="https://id.oidc.se/claim/personalIdentityNumber",
        description="The ID-token or userinfo claim that carries the person's national identifier.",
    )
    identifier_scheme: str = Field(default="se_personnummer", description="The scheme of that identifier.")
    loa: dict[str, str] = Field(
        default={
            "http://id.elegnamnden.se/loa/1.0/loa3": "substantial",
            "http://id.elegnamnden.se/loa/1.0/loa4": "high",
            "http://eidas.europa.eu/LoA/substantial": "substantial",
            "http://eidas.europa.eu/LoA/high": "high",
        },
        description="acr values of the provider and the eIDAS level of assurance each is.",
    )


class Settings(BaseSettings):
    """Saldo's configuration. Every field is read from a ``SALDO_<NAME>`` environment variable."""

    model_config = SettingsConfigDict(env_prefix="SALDO_", env_file=None, extra="forbid")

    database_url: str | None = Field(
        default=None,
        description=(
            "PostgreSQL URL (postgresql+psycopg://user:pass@host/db). Empty: start the embedded "
            "PostgreSQL server in `data_dir`."
        ),
    )
    data_dir: Path = Field(
        default=Path(".saldo"),
        description="Directory for the embedded PostgreSQL data, generated synthetic data and exports.",
    )
    host: str = Field(default="127.0.0.1", description="Address `saldo serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `saldo serve` listens on.")
    workers: int = Field(default=1, ge=1, le=64, description="Number of web worker processes for `saldo serve`.")
    public_url: str | None = Field(
        default=None,
        description=(
            "The address people and eID providers reach Saldo at, e.g. https://saldo.example.se. Login callbacks, "
            "the development eID's issuer and Secure cookies follow it, never a request's Host header. Empty: "
            "http://SALDO_HOST:SALDO_PORT."
        ),
    )
    allowed_hosts: list[str] = Field(
        default=[],
        description=(
            "Host names requests may name in their Host header, as a JSON list (others get 400). Empty: the public "
            "URL's host and this machine's loopback names."
        ),
    )
    trusted_proxies: list[str] = Field(
        default=[],
        description=(
            "Addresses of the TLS-terminating proxies whose X-Forwarded-For and X-Forwarded-Proto headers are "
            "believed, as a JSON list (`saldo serve`). Empty: none are; forwarded headers are ignored."
        ),
    )
    db_pool_size: int = Field(default=10, ge=1, le=200, description="Connections each web process keeps open.")
    read_replica_url: str | None = Field(
        default=None,
        description=(
            "A streaming replica of the database (PostgreSQL's own replication) that payers' listings of their "
            "payments and persons' yearly statements are read from. Unset: everything reads the primary. "
            "docs/scale-out.md"
        ),
    )
    read_replica_max_lag_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description=(
            "How far behind the primary the replica may be for reads to go to it. Further behind, or down: "
            "reads go to the primary."
        ),
    )
    max_upload_bytes: int = Field(
        default=2 * 1024**3,
        ge=1024,
        description="Largest payment file accepted, in bytes. Larger uploads are refused with HTTP 413.",
    )
    max_json_batch: int = Field(
        default=10_000,
        ge=1,
        description="Most payments in one JSON batch request. Larger batches go as NDJSON or CSV files.",
    )
    max_amount_minor: int = Field(
        default=100_000_000_00,
        ge=1,
        description=(
            "Largest single payment accepted, in minor units (default SEK 100 million). Larger amounts are "
            "rejected as implausible."
        ),
    )
    payment_currencies: list[str] = Field(
        default=["SEK"],
        description="Currencies Saldo mediates payments in (ISO 4217). Payments in others are rejected.",
    )
    max_reported_errors: int = Field(
        default=10_000,
        ge=1,
        description="Most bad records listed in one batch report; the report always gives the total.",
    )
    ingest_chunk_rows: int = Field(
        default=100_000,
        ge=1_000,
        description="Rows validated and stored per step during file ingestion; bounds memory per file.",
    )
    ingest_writers: int = Field(
        default=2,
        ge=1,
        le=8,
        description=(
            "Connections that store one large CSV file at once, committed together by two-phase commit "
            "(needs the server's max_prepared_transactions; 1 stores every file on one connection)."
        ),
    )
    ingest_parallel_bytes: int = Field(
        default=64 << 20,
        ge=0,
        description="Size from which a CSV file is stored over ingest_writers connections (default 64 MiB).",
    )
    page_size_max: int = Field(default=1000, ge=1, description="Most items one page of a list endpoint returns.")
    listing_read_limit: int = Field(
        default=10_000,
        ge=1000,
        description=(
            "Most of a payer's payments one page of its listing tries a filter on when no index narrows "
            "the filter (status, benefit, due dates, a part of a name), and a fifth as many archived ones; the "
            "page then says how far it read."
        ),
    )
    vop_match_threshold: float = Field(
        default=98.0,
        ge=0,
        le=100,
        description=(
            "Name similarity (0-100, rapidfuzz token-sort ratio) at or above which a spelling difference "
            "still counts as a match in verification of payee."
        ),
    )
    vop_close_match_threshold: float = Field(
        default=85.0,
        ge=0,
        le=100,
        description="Name similarity at or above which verification of payee answers close match (below: no match).",
    )
    fast_path: bool = Field(
        default=True,
        description=(
            "Answer the plain case of single verification-of-payee checks, single payment registrations, a "
            "payer's listing and a citizen's overview on a lean path (one prepared statement on an "
            "async pool) in front of the documented routes; off: every request goes through the full API stack."
        ),
    )
    vop_bulk_max: int = Field(
        default=10_000, ge=1, description="Most checks in one bulk verification-of-payee request."
    )
    max_account_records: int = Field(
        default=10_000,
        ge=1,
        description="Most accounts in one register API request from a bank. Larger sets go as a bank file.",
    )
    outbox_dir: Path | None = Field(
        default=None,
        description=(
            "Directory payment files are written to for the bank to collect (pain.001 and their manifests). "
            "Empty: `outbox` inside `data_dir`."
        ),
    )
    max_file_transactions: int = Field(
        default=50_000,
        ge=1,
        le=9_999_999,
        description=(
            "Most transactions in one pain.001 file; a larger payment run is split into several files. Bounds the "
            "memory a writer process takes (measured: 273 MiB at 50,000; docs/benchmarks.md)."
        ),
    )
    batch_booking: bool = Field(
        default=True,
        description=(
            "Ask the bank to book each payment-information block as one debit on the debtor account (BtchBookg). "
            "Off: one debit per payment."
        ),
    )
    authority_name: str = Field(
        default="Utbetalningsmyndigheten",
        min_length=1,
        max_length=140,
        description="The payment authority's name, written as initiating party in payment files.",
    )
    authority_organisation_number: str | None = Field(
        default=None,
        description="The payment authority's organisation number: with it, the authority is the initiating party "
        "of payment files (name and number); without it, the payer whose account is debited is, by its own "
        "name and organisation number, so a file always names an initiating party the bank can identify.",
    )
    run_workers: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Files of one payment run written and validated at the same time (processes).",
    )
    worker_stalled_after_s: float = Field(
        default=60.0,
        ge=1.0,
        le=3600.0,
        description=(
            "Seconds without a heartbeat after which a worker counts as dead and the jobs it held are queued again "
            "(by any live worker, checked continuously). Workers beat at a sixth of it (10 s by default)."
        ),
    )
    halt_at: str | None = Field(
        default=None,
        pattern="^[a-z0-9_.]{1,64}$",
        description=(
            "For crash tests only, never in production: a named point (docs/operations.md) where the process stops "
            "and waits to be killed, after writing its pid to `halted/<point>` in `data_dir`."
        ),
    )
    snapshot_dir: Path | None = Field(
        default=None,
        description="Directory analysis snapshots (Parquet and manifest) go to. Empty: `snapshots` in `data_dir`.",
    )
    pseudonym_key_file: Path | None = Field(
        default=None,
        description=(
            "File holding the secret key of the analysis pseudonyms (HMAC-SHA256); kept outside the database. "
            "Empty: `pseudonym.key` in `data_dir`, created with a random key when missing."
        ),
    )
    analysis_engine: str = Field(
        default="duckdb",
        pattern="^(duckdb|spark)$",
        description="Engine that runs the analysis rules: `duckdb` (one machine) or `spark` (a cluster or local).",
    )
    analysis_threads: int = Field(
        default=2, ge=1, le=256, description="Threads (DuckDB) or local cores (Spark) an analysis run uses."
    )
    analysis_capacity: int = Field(
        default=200,
        ge=0,
        description="Findings the authority can review per analysis run; the highest expected values are selected.",
    )
    analysis_schedule: str = Field(
        default="30 2 * * *",
        description=(
            "When the worker takes a snapshot and runs the analysis on its own (cron, the worker's time zone); "
            "empty: only when asked (`saldo analysis run`, `saldo analysis queue`)."
        ),
    )
    index_upkeep_schedule: str = Field(
        default="0 4 2 * *",
        description=(
            "When the worker rebuilds the indexes of payments and their history compactly, as `saldo reindex` "
            "does (cron, the worker's time zone; by default 04:00 on the 2nd, after a month has settled); "
            "empty: only when an operator runs `saldo reindex`."
        ),
    )
    payment_archive_schedule: str = Field(
        default="0 1 2 * *",
        description=(
            "When the worker moves the payments of each month settled for two months out of the payments table "
            "into the archive (cron, the worker's time zone; by default 01:00 on the 2nd, before the index "
            "upkeep); empty: only when an operator runs `saldo payments archive`."
        ),
    )
    spark_master: str = Field(
        default="local[2]",
        description="Spark master URL for `analysis_engine = spark`, e.g. `local[4]` or `spark://host:7077`.",
    )
    precision_prior_weight: float = Field(
        default=20.0,
        ge=0,
        description=(
            "How many decided outcomes a rule's prior precision counts as when payers' outcomes replace it in "
            "the selection: measured precision = (prior x weight + confirmed) / (weight + decided)."
        ),
    )
    fairness_disparity_threshold: float = Field(
        default=1.25,
        gt=1,
        description=(
            "A rule's flag rate in a group (age band, sex, region) this many times its overall rate, or its "
            "precision in a group below overall / this, raises a fairness alert."
        ),
    )
    fairness_min_flagged: int = Field(
        default=10,
        ge=1,
        description="Fewest persons flagged (or outcomes decided) in a group before its disparity can raise an alert.",
    )
    handling_cost_minor: int = Field(
        default=250_000,
        ge=0,
        description=(
            "What handling one notification costs, authority and payer together, in öre (SEK 2,500 by default); "
            "the statistics set it against the amounts stopped and claimed."
        ),
    )
    reminder_days: int = Field(
        default=3, ge=0, le=60, description="Days before an information request's deadline the payer is reminded."
    )
    webhook_lanes: int = Field(
        default=8, ge=1, le=256, description="Payers whose webhooks are delivered to at the same time."
    )
    webhook_refused_networks: list[str] = Field(
        default=[],
        description=(
            "The authority's own address ranges (CIDR, e.g. 192.0.2.0/24) no webhook may point to, as a JSON list; "
            "loopback, private, link-local and other non-public addresses are always refused."
        ),
    )
    webhook_local_receivers: bool = Field(
        default=False,
        description=(
            "Let webhooks use plain http and point to this machine or a private network: for the demo and local "
            "development, whose receivers run locally. Never in production."
        ),
    )
    oidc_providers: list[OidcProviderSettings] = Field(
        default=[],
        description=(
            "eID providers (OpenID Connect) people log in with, as a JSON list of objects: name, label, issuer, "
            "client_id, client_secret, audience (`citizen`, `staff` or `payer`), and optionally scopes, "
            "identifier_claim, identifier_scheme and loa (acr value to `substantial`/`high`). docs/login.md has an "
            "example."
        ),
    )
    dev_login: bool = Field(
        default=False,
        description=(
            "Offer the built-in development eID provider, where anyone can log in as anyone: for the demo and "
            "local development only, and labelled so on every page it shows. Never in production."
        ),
    )
    session_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="A logged-in session ends after this long without a request."
    )
    session_max_hours: int = Field(
        default=8, ge=1, le=24, description="A logged-in session ends this long after login, however active."
    )
    demo_persons: int = Field(
        default=20_000, ge=100, description="Persons in the synthetic country `saldo demo` builds."
    )
    tls_certificate: Path | None = Field(
        default=None,
        description=(
            "PEM certificate (with its chain) `saldo serve` answers HTTPS with; with `SALDO_TLS_KEY`. Unset: plain "
            "HTTP, for serving behind a TLS proxy."
        ),
    )
    tls_key: Path | None = Field(default=None, description="The private key of `SALDO_TLS_CERTIFICATE`, PEM.")
    eessi_institution: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}:[A-Za-z0-9]{4,10}$",
        description=(
            "This node's institution id in the EESSI Institution Repository (`SE:FKA01` …). Unset: the node takes "
            "no part in the cross-border exchange."
        ),
    )
    eessi_key: Path | None = Field(
        default=None, description="The RSA private key (PEM) this node signs SEDs and AS4 messages and decrypts with."
    )
    eessi_certificate: Path | None = Field(
        default=None, description="The certificate (PEM) of `SALDO_EESSI_KEY`, as the directory lists it."
    )
    eessi_directory: Path | None = Field(
        default=None,
        description="The institution directory (JSON, docs/eessi.md): read again whenever the file changes.",
    )
    eessi_previous_keys: list[KeyPair] = Field(
        default=[],
        description=(
            'Keys this node used before its current one, as a JSON list of {"key": …, "certificate": …} (PEM '
            "paths): a message a partner encrypted to an earlier certificate before it heard of the new one is "
            "still read, and its receipt signed with the key it was encrypted to. Drop a key once no partner lists "
            "its certificate."
        ),
    )
    eessi_ca_bundle: Path | None = Field(
        default=None,
        description="CA certificates (PEM) other nodes' HTTPS certificates are checked against; unset: the system's.",
    )
    eessi_retry_hours: float = Field(
        default=48.0,
        gt=0,
        description=(
            "How long a SED is retried to a partner that does not answer (backing off up to 15 minutes between "
            "tries) before it is marked undeliverable and staff are alerted."
        ),
    )
    onceonly_party: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9:._-]{3,100}$",
        description=(
            "This node's party id in the once-only directory (`SALDO_ONCEONLY_DIRECTORY`). It signs and decrypts "
            "with the node's eDelivery key (`SALDO_EESSI_KEY`). Unset: the node takes no part in the once-only "
            "evidence exchange."
        ),
    )
    onceonly_directory: Path | None = Field(
        default=None,
        description=(
            "The once-only common services as a file (JSON, docs/once-only.md): the evidence types and the "
            "authorities that request and provide them. Read again whenever the file changes."
        ),
    )

    credentials_key: Path | None = Field(
        default=None,
        description=(
            "The EC P-256 private key (PEM) PDA1 and EHIC credentials and their status lists are signed with "
            "(ES256). Unset: this installation issues no credentials. Needs `SALDO_EESSI_INSTITUTION` (the "
            "issuing institution's id)."
        ),
    )
    credentials_chain: Path | None = Field(
        default=None,
        description=(
            "The certificate chain (PEM, the key's certificate first, the root left out) sent in every "
            "credential's `x5c` header, so verifiers need only the root."
        ),
    )
    credentials_trust_anchors: Path | None = Field(
        default=None,
        description=(
            "Root certificates (PEM) of the credential issuers Saldo's verifier trusts: the trusted list, read "
            "again when the file changes. Unset: none, and every presented credential is refused as untrusted."
        ),
    )
    credentials_pid_trust_anchors: Path | None = Field(
        default=None,
        description=(
            "Root certificates (PEM) of the PID providers whose person identification data Saldo accepts when a "
            "person designates their account from the EU wallet. Unset (or the bank roots unset): that path is "
            "not offered."
        ),
    )
    credentials_bank_trust_anchors: Path | None = Field(
        default=None,
        description=(
            "Root certificates (PEM) of the banks (or their trust service) whose account attestations Saldo "
            "accepts as evidence of who holds an account. Kept apart from the PID and PDA1/EHIC roots: a root "
            "trusted for one kind of credential vouches for no other."
        ),
    )
    credentials_status_ttl_s: int = Field(
        default=300,
        ge=10,
        le=86_400,
        description=(
            "How long a verifier may keep a status list before fetching it again (its `ttl`): a revocation or "
            "suspension is seen everywhere within this time."
        ),
    )
    credentials_status_list_size: int = Field(
        default=1 << 20,
        ge=1024,
        le=1 << 27,
        description=(
            "Entries in each status list. Entries are taken at random from a list until half of it is used, "
            "then a new list is started, so an entry's place tells nothing about when it was issued."
        ),
    )
    eidas_connector_metadata: Path | None = Field(
        default=None,
        description=(
            "SAML metadata (XML) of this country's eIDAS-Connector: its entity id, where to send the login "
            "request, and the certificate its answers are signed with. With the key and certificate below, a person "
            "can log in with an eID of another EU/EEA country. Unset: that login is not offered."
        ),
    )
    eidas_sp_key: Path | None = Field(
        default=None,
        description="Saldo's RSA key (PEM) as an eIDAS service provider: it signs login requests and decrypts answers.",
    )
    eidas_sp_cert: Path | None = Field(
        default=None,
        description="The certificate (PEM) of that key, published in Saldo's service provider metadata.",
    )
    eidas_country: str = Field(
        default="SE",
        pattern=r"^[A-Z]{2}$",
        description=(
            "The country of this installation in the eIDAS network: a PersonIdentifier must be issued for it "
            "(``XX/SE/…``), and one of this country (``SE/SE/…``) is its national identity number."
        ),
    )
    eidas_min_loa: Literal["substantial", "high"] = Field(
        default="substantial",
        description="The lowest eIDAS level of assurance a foreign eID login is accepted at.",
    )

    @property
    def wallet_designation(self) -> bool:
        """Whether a person may designate their account from the EU wallet (PID and bank roots set)."""
        return None not in (self.credentials_pid_trust_anchors, self.credentials_bank_trust_anchors)

    @property
    def wallet_login(self) -> bool:
        """Whether login with the PID in the EU wallet is configured (the PID providers' roots)."""
        return self.credentials_pid_trust_anchors is not None

    @property
    def eidas_login(self) -> bool:
        """Whether login with an eID of another country is configured (the Connector and Saldo's key)."""
        return None not in (self.eidas_connector_metadata, self.eidas_sp_key, self.eidas_sp_cert)

    @property
    def base_url(self) -> str:
        """Where Saldo is reached, without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def served_hosts(self) -> list[str]:
        """The Host header values requests may carry."""
        if self.allowed_hosts:
            return list(self.allowed_hosts)
        public = urlsplit(self.base_url).hostname or ""
        return list(dict.fromkeys([public, *LOOPBACK_NAMES]))

    @property
    def snapshots(self) -> Path:
        """Where analysis snapshots are written."""
        return self.snapshot_dir or self.data_dir / "snapshots"

    @property
    def pseudonym_key_path(self) -> Path:
        """The file of the analysis pseudonym key."""
        return self.pseudonym_key_file or self.data_dir / "pseudonym.key"

    @property
    def halted_dir(self) -> Path:
        """Where a process armed with ``halt_at`` says it has halted (crash tests)."""
        return self.data_dir / "halted"

    @property
    def outbox(self) -> Path:
        """Where payment files go for the bank."""
        return self.outbox_dir or self.data_dir / "outbox"

    @model_validator(mode="after")
    def _close_match_below_match(self) -> Self:
        if self.vop_close_match_threshold > self.vop_match_threshold:
            raise ValueError("SALDO_VOP_CLOSE_MATCH_THRESHOLD must not be above SALDO_VOP_MATCH_THRESHOLD")
        return self

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"not a site address like https://saldo.example.se: {value!r}")
        if parts.path not in ("", "/"):
            raise ValueError(f"Saldo is served at the root of its address, without a path: {value!r}")
        return value.strip().rstrip("/")

    @field_validator("webhook_refused_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress  # noqa: PLC0415

        for text in value:
            try:
                ipaddress.ip_network(text, strict=False)
            except ValueError as exc:
                raise ValueError(f"not an address range (CIDR, e.g. 192.0.2.0/24): {text!r}") from exc
        return value

    @field_validator("analysis_schedule", "index_upkeep_schedule", "payment_archive_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter  # noqa: PLC0415 — procrastinate's own cron parser

        if value.strip() and not croniter.is_valid(value.strip()):
            raise ValueError(f"not a cron schedule (minute hour day month weekday): {value!r}")
        return value.strip()
