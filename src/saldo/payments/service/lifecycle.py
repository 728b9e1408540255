"""The payment lifecycle: which status may follow which. Later stages (verification, payment runs,
bank status) drive the later transitions; every transition is recorded in ``payment_events``."""

from __future__ import annotations

from saldo.payments.models import PaymentStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.REGISTERED: frozenset({S.VERIFIED, S.HELD, S.CANCELLED}),
    # A payment run takes a payment and hands it to the bank in one transaction, the one that writes
    # its file: verified -> sent. Scheduled is for a payment set aside for a run ahead of its file.
    S.VERIFIED: frozenset({S.SCHEDULED, S.SENT, S.HELD, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.SENT, S.HELD, S.CANCELLED}),
    S.SENT: frozenset({S.SETTLED, S.REJECTED, S.RETURNED}),
    S.SETTLED: frozenset({S.RETURNED}),
    # A release sends it back through verification; a payment held by a failed account check is
    # verified directly when a later check passes (the register or the designation changed).
    S.HELD: frozenset({S.REGISTERED, S.VERIFIED, S.CANCELLED}),
    S.REJECTED: frozenset(),
    S.RETURNED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REPORTED: frozenset({S.CANCELLED}),  # a report withdrawn by the payer that made it
}

CANCELLABLE: frozenset[S] = frozenset(s for s, nexts in TRANSITIONS.items() if S.CANCELLED in nexts)


def can_transition(current: S, target: S) -> bool:
    """Whether a payment in ``current`` may move to ``target``."""
    return target in TRANSITIONS[current]
