"""The message types Saldo reads and writes, their namespaces and their official schemas."""

from __future__ import annotations

import threading
from enum import StrEnum
from pathlib import Path

from lxml import etree

XSD_DIR = Path(__file__).with_name("xsd")


class MessageType(StrEnum):
    PAIN_001 = "pain.001.001.09"  # customer credit transfer initiation
    PAIN_002 = "pain.002.001.10"  # customer payment status report
    CAMT_053 = "camt.053.001.08"  # bank-to-customer statement
    CAMT_054 = "camt.054.001.08"  # bank-to-customer debit/credit notification

    @property
    def namespace(self) -> str:
        return f"urn:iso:std:iso:20022:tech:xsd:{self.value}"

    @property
    def xsd_path(self) -> Path:
        return XSD_DIR / f"{self.value}.xsd"

    @classmethod
    def from_namespace(cls, namespace: str) -> MessageType | None:
        """The message type with this namespace, or None for one Saldo does not know."""
        return next((m for m in cls if m.namespace == namespace), None)


_compiled = threading.local()


def schema_for(message: MessageType) -> etree.XMLSchema:
    """The compiled official schema of a message type, compiled once per thread (a validator keeps
    its error log, so threads do not share one)."""
    cache: dict[MessageType, etree.XMLSchema] = _compiled.__dict__.setdefault("schemas", {})
    if message not in cache:
        # The vendored schema is trusted; no_network keeps the compiler from ever fetching anything.
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        cache[message] = etree.XMLSchema(etree.parse(str(message.xsd_path), parser))
    return cache[message]
