"""Payment mediation (betalningsförmedling): payment runs that put verified payments into
ISO 20022 files for the bank, the bank's answers read back, and the reconciliation of the two."""
