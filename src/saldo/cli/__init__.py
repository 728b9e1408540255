"""The ``saldo`` command line: one module per command group."""
