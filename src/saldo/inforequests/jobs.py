"""Background work of information requests: reminders before the deadline, every morning."""

from __future__ import annotations

import logging

import procrastinate

from saldo.db.engine import unit_of_work
from saldo.inforequests.service import send_reminders
from saldo.mediation.jobs import JobResources

REMINDER_TASK = "send_request_reminders"
REMINDER_QUEUE = "reminders"
REMINDER_CRON = "0 7 * * *"  # 07:00 every day (the worker's time zone)


def send_reminders_job(context: procrastinate.JobContext, timestamp: int) -> int:
    """Remind payers of the information requests due within SALDO_REMINDER_DAYS."""
    resources = context.additional_context["resources"]
    assert isinstance(resources, JobResources)
    with unit_of_work(resources.sessions) as session:
        sent = send_reminders(session, days_before=resources.settings.reminder_days)
    logging.getLogger(__name__).info("sent %d information request reminder(s)", sent)
    return sent


def register_tasks(app: procrastinate.App, *, scheduled: bool = True) -> None:
    """The reminder task; with ``scheduled``, also sent by the worker every morning."""
    task = app.task(name=REMINDER_TASK, queue=REMINDER_QUEUE, pass_context=True)(send_reminders_job)
    if scheduled:
        app.periodic(cron=REMINDER_CRON, periodic_id=REMINDER_TASK)(task)
