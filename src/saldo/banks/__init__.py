"""Banks: the participants that feed the account register and ask verification of payee."""
