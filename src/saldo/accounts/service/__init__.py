"""The account register's use-cases, one module each: records (validation), register (applying bank
records), files (bank files), verify (verification of payee), designate (designated accounts)."""
