"""The bank account register: who holds which account, designated accounts, verification of payee."""
