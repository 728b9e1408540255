"""Payees: the persons and organisations whose transaction accounts payments land on."""
