"""Payment mediation use-cases: runs, files, bank answers, reconciliation."""
