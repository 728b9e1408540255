"""The BUC state machine, read from ``saldo/eessi/data/bucs.toml``: whether a SED may be sent or
received now in a case, given who sends it and what the case holds. Every refusal says why, in the
words that go back to the other institution in an X011."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal

Side = Literal["owner", "counterparty"]


@dataclass(frozen=True)
class Step:
    sed: str
    by: Literal["owner", "counterparty", "either"]
    answers: tuple[str, ...] = ()
    reply_days: int | None = None
    closes: bool = False


@dataclass(frozen=True)
class Buc:
    type: str
    title: str
    sector: str
    version: str
    starter: str
    steps: dict[str, Step] = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    """A SED already in the case, as the state machine needs it."""

    document_id: str
    sed: str
    side: Side
    answered: bool


class NotAllowedError(ValueError):
    """The SED may not be sent in this case now; the message says why."""


@cache
def catalogue() -> dict[str, Buc]:
    data = tomllib.loads(resources.files("saldo.eessi").joinpath("data/bucs.toml").read_text(encoding="utf-8"))
    admin = {sed: Step(sed=sed, **spec) for sed, spec in data["admin"].items()}
    bucs = {}
    for name, spec in data["bucs"].items():
        steps = {sed: Step(sed=sed, by=s["by"], answers=tuple(s.get("answers", ())), reply_days=s.get("reply_days"))
                 for sed, s in spec["seds"].items()}  # fmt: skip
        bucs[name] = Buc(name, spec["title"], spec["sector"], spec["version"], spec["starter"], {**steps, **admin})
    return bucs


def buc(buc_type: str) -> Buc:
    try:
        return catalogue()[buc_type]
    except KeyError:
        raise NotAllowedError(f"{buc_type!r} is not a BUC this node plays ({', '.join(sorted(catalogue()))})") from None


def check(  # noqa: PLR0912 — the rules read best as one list
    buc_type: str,
    sed: str,
    *,
    side: Side,
    version: str,
    history: Sequence[Sent],
    closed: bool,
    answers: str | None = None,
) -> Step:
    """The step ``sed`` takes in the case, or NotAllowed. ``history`` is the case's SEDs so far, in
    order; ``answers`` the document id the SED names as the one it answers."""
    definition = buc(buc_type)
    if version != definition.version:
        raise NotAllowedError(f"{sed} version {version} does not match the version of {buc_type}, {definition.version}")
    step = definition.steps.get(sed)
    if step is None:
        raise NotAllowedError(f"{sed} is not part of {buc_type}")
    if closed:
        raise NotAllowedError(f"the case is closed; {sed} cannot follow")
    if not history:
        if sed != definition.starter or side != "owner":
            raise NotAllowedError(f"{buc_type} starts with {definition.starter} from the institution that opens it")
        return step
    if sed == definition.starter and side == "owner" and step.reply_days is None and not step.answers:
        pass  # a notification may be sent again (a corrected H070, a new A009)
    elif sed == definition.starter:
        raise NotAllowedError(f"{sed} starts {buc_type}; the case has started")
    if step.by not in ("either", side):
        raise NotAllowedError(f"{sed} is sent by the {step.by.replace('counterparty', 'counterparty institution')}")
    if step.answers:
        open_requests = [s for s in history if s.sed in step.answers and not s.answered and s.side != side]
        if answers is not None:
            open_requests = [s for s in open_requests if s.document_id == answers]
        if not open_requests:
            asked = " or ".join(step.answers)
            raise NotAllowedError(f"{sed} answers an unanswered {asked} from the other side, and there is none")
    if sed == "X011" and not any(s.document_id == answers and s.side != side for s in history):
        raise NotAllowedError("X011 must name a SED the other side sent in this case")
    if sed == "X009":
        named = next((s for s in history if s.document_id == answers and s.side == side), None)
        if named is None:
            raise NotAllowedError("X009 must name a request this side sent in this case")
        if named.answered or not definition.steps[named.sed].reply_days:
            raise NotAllowedError(f"X009 reminds of an unanswered request; {named.sed} {answers} is not one")
    return step


def deadline(step: Step, sent_on: dt.date) -> dt.date | None:
    return sent_on + dt.timedelta(days=step.reply_days) if step.reply_days else None
