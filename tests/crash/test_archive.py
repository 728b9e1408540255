"""The payment archive as a worker job, its worker killed with SIGKILL mid-archive: while a month is
moved but not committed, nothing of it is archived and every payment is still in the table; after
a month is committed, that month is archived and the next is not. The job, handed out again,
archives what is left: each payment once, whole, the readers' figures as before."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from saldo.db.queue import job_states
from saldo.kit.clock import today
from saldo.payers.schemas import PayerPrincipal
from saldo.payments.jobs import ARCHIVE_LOCK
from saldo.payments.schemas import PaymentIn
from saldo.payments.service.policy import RegistrationPolicy
from saldo.payments.service.register import register_payment
from tests.crash.conftest import Lab, wait_until
from tests.factories import OTHER_PNR, VALID_PNR, make_payer, payment_body

MONTHS_BACK = (5, 4)  # two months that may be archived today


def _month(back: int) -> dt.date:
    first = today().replace(day=1)
    index = first.year * 12 + first.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _paid(lab: Lab) -> int:
    """Twelve settled payments in each of two past months, to two persons; how many in all."""
    policy = RegistrationPolicy.from_settings(lab.settings)
    with lab.sessions() as session:
        payer = make_payer(session)
        principal = PayerPrincipal(payer.id, payer.organisation_number, payer.name, payer.connection_model, 0)
        for back in MONTHS_BACK:
            month = _month(back)
            for n in range(12):
                body = payment_body(
                    reference=f"M{back}-{n}",
                    payee_id=VALID_PNR if n % 2 else OTHER_PNR,
                    due_date=(month + dt.timedelta(days=n)).isoformat(),
                    period_start=month.isoformat(),
                    period_end=(month + dt.timedelta(days=27)).isoformat(),
                )
                register_payment(
                    session, payer=principal, payment=PaymentIn.model_validate(body), policy=policy, today=today()
                )
        session.execute(text("UPDATE payments SET status = 'settled'"))
        session.commit()
    return 24


def _where(lab: Lab) -> tuple[int, int, int]:
    """(payments in the table, archived keys, archived payments in year rows)."""
    with lab.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM payments), (SELECT count(*) FROM archived_payment_keys), "
                "(SELECT count(*) FROM archived_payment_years y, unnest(y.payments) p)"
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


def _jobs(lab: Lab) -> list[tuple[int, str, int]]:
    with lab.sessions() as session:
        return job_states(session, ARCHIVE_LOCK)


def test_a_worker_killed_mid_archive_leaves_whole_months_and_its_job_archives_the_rest(lab: Lab) -> None:
    total = _paid(lab)
    with lab.engine.connect() as connection:
        by_payee = connection.execute(text("SELECT * FROM payments_by_payee ORDER BY id")).all()
    output = lab.finish(lab.start("payments", "archive", "--queue"))
    job = int(output.split("queued as job ")[1].split(";")[0])

    # killed with the first month moved in its transaction, not committed: nothing is archived
    lab.kill_at(lab.start("worker", halt_at="archive.moved"), "archive.moved")
    assert _where(lab) == (total, 0, 0)
    assert _jobs(lab) == [(job, "doing", 0)]  # held by the dead worker

    # handed out again, and killed with the first month committed: that month alone is archived
    lab.kill_at(lab.start("worker", halt_at="archive.month"), "archive.month")
    assert _where(lab) == (total - 12, 12, 12)
    with lab.engine.connect() as connection:
        archived_due = (
            connection.execute(
                text(
                    "SELECT DISTINCT date_trunc('month', due_date)::date FROM payments_by_payee p "
                    "WHERE NOT EXISTS (SELECT 1 FROM payments x WHERE x.id = p.id)"
                )
            )
            .scalars()
            .all()
        )
    assert archived_due == [_month(MONTHS_BACK[0])]

    # a worker that lives archives the rest, and every payment is where it was read before, once
    lab.start("worker")
    wait_until(lambda: _jobs(lab)[0][1] == "succeeded", "the archive job done again")
    assert _where(lab) == (0, total, total)
    with lab.engine.connect() as connection:
        assert connection.execute(text("SELECT * FROM payments_by_payee ORDER BY id")).all() == by_payee
        assert connection.scalar(text("SELECT count(DISTINCT id) FROM archived_payment_keys")) == total
