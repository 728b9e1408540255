"""ISO 20022 messages Saldo exchanges with banks: ``pain.001.001.09`` credit transfers out,
``pain.002.001.10`` status reports and ``camt.054.001.08`` / ``camt.053.001.08`` notifications and
statements in. The official XSDs are vendored in ``xsd/`` and every message is validated against
them; nothing is fetched from the network. This package knows XML, not Saldo's database."""
