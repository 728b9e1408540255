"""Database access: engine, sessions, base model, column types and the embedded PostgreSQL server."""
