"""Once only, across borders: evidence exchanged between authorities of different countries through
the EU's once-only technical system, after the person saw it and agreed (docs/once-only.md).

Saldo asks for evidence an application needs (requester), and provides a statement of a person's
public payments to procedures abroad (provider)."""
