"""Small domain-free helpers. Nothing here imports from the rest of Saldo."""
