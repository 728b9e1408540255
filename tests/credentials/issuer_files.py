"""An issuer's key, chain and trusted root written to a folder, as the environment of a `saldo
serve` that issues and verifies credentials (the crash tests and the benchmark start one)."""

from __future__ import annotations

from pathlib import Path

from saldo.credentials.service.keys import certificate_pem, issue_issuer, issue_trust_anchor


def issuer_environment(folder: Path, public_url: str) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    anchor = issue_trust_anchor()
    issue_issuer(anchor, "Försäkringskassan", "SE").write(folder / "issuer.key", folder / "issuer.pem")
    (folder / "anchors.pem").write_text(certificate_pem(anchor.certificate), encoding="ascii")
    return {
        "SALDO_EESSI_INSTITUTION": "SE:FKA01",
        "SALDO_CREDENTIALS_KEY": str(folder / "issuer.key"),
        "SALDO_CREDENTIALS_CHAIN": str(folder / "issuer.pem"),
        "SALDO_CREDENTIALS_TRUST_ANCHORS": str(folder / "anchors.pem"),
        "SALDO_PUBLIC_URL": public_url,
    }
