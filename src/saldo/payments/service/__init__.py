"""Payment use-cases, one module each: register one, ingest a batch, cancel, read."""
