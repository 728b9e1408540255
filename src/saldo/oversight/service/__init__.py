"""The oversight domain's rules."""
