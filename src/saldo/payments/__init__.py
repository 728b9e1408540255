"""Payments on each payee's transaction account: registration, batches, lifecycle and history."""
