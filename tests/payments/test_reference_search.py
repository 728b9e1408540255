"""A payer's listing narrowed to its references that begin with some text."""

from __future__ import annotations

from alembic.migration import MigrationContext
from alembic.operations import Operations
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import auth, index_plan, load_migration, make_payer, make_token, payment_body

REFERENCES = ["CASE-2026-0101", "CASE-2026-0102", "CASE-2026-0110", "CASE-2026-02", "CASE_2026-0103", "OTHER-1"]


def _found(client: TestClient, token: str, prefix: str) -> list[str]:
    response = client.get("/api/v1/payments", params={"reference": prefix, "limit": 100}, headers=auth(token))
    assert response.status_code == 200, response.text
    return [item["reference"] for item in response.json()["items"]]


def test_a_search_finds_exactly_the_references_that_begin_so_in_id_order(client: TestClient, token: str) -> None:
    for reference in REFERENCES:
        assert client.post("/api/v1/payments", json=payment_body(reference=reference), headers=auth(token)).is_success
    assert _found(client, token, "CASE-2026-01") == ["CASE-2026-0101", "CASE-2026-0102", "CASE-2026-0110"]
    assert _found(client, token, "CASE-2026-010") == ["CASE-2026-0101", "CASE-2026-0102"]
    assert _found(client, token, "CASE_") == ["CASE_2026-0103"]  # "_" is the character, not any character
    assert _found(client, token, "CASE-2026-0110") == ["CASE-2026-0110"]
    assert _found(client, token, "CASE-2026-02") == ["CASE-2026-02"]
    assert _found(client, token, "CASE-2026-03") == []


def test_a_search_shows_no_other_payers_references(client: TestClient, token: str, session: Session) -> None:
    other = make_token(session, make_payer(session, name="Annan kommun"))
    session.commit()
    client.post("/api/v1/payments", json=payment_body(reference="CASE-2026-0101"), headers=auth(other))
    client.post("/api/v1/payments", json=payment_body(reference="CASE-2026-0102"), headers=auth(token))
    assert _found(client, token, "CASE-2026-01") == ["CASE-2026-0102"]
    assert _found(client, other, "CASE-2026-01") == ["CASE-2026-0101"]


def test_a_search_reads_only_its_range_of_the_reference_index_before_and_after_its_migration(
    client: TestClient, token: str, session: Session
) -> None:
    """Under the references' byte order the search is bounded on both sides in the (payer,
    reference) index; under the database's own collation, as before the migration, it read from the
    text to the end of the payer's references. The migration goes down and up again in the test's
    transaction, and the search finds the same payments throughout."""
    for reference in REFERENCES:
        client.post("/api/v1/payments", json=payment_body(reference=reference), headers=auth(token))
    payer = session.scalar(text("SELECT payer_id FROM payments WHERE reference = 'OTHER-1'"))
    search = "SELECT reference FROM payments WHERE payer_id = :p AND reference LIKE 'CASE-2026-01%'"

    def plan() -> str:  # through the reference index, as at national size, where the range is what counts
        session.execute(text("SET LOCAL enable_sort = off"))
        found = index_plan(session, search + " ORDER BY payer_id, reference", {"p": payer})
        session.execute(text("RESET enable_sort"))
        assert "uq_payments_payer_id_reference" in found
        return found

    def found() -> list[str]:
        return sorted(session.scalars(text(search), {"p": payer}))

    expected = ["CASE-2026-0101", "CASE-2026-0102", "CASE-2026-0110"]
    assert found() == expected
    assert "< 'CASE-2026-02'" in plan()
    migration = load_migration("*_payment_references_in_byte_order.py")
    archive = load_migration("*_payment_archive.py")  # its views and year rows hold the column's type
    history = load_migration("*_archived_history.py")  # the archive's histories, in its keys
    with Operations.context(MigrationContext.configure(session.connection())):
        history.downgrade()
        archive.downgrade()
        migration.downgrade()
        assert "< 'CASE-2026-02'" not in plan()
        assert found() == expected
        migration.upgrade()
        archive.upgrade()
        history.upgrade()
    assert "< 'CASE-2026-02'" in plan()
    assert found() == expected
