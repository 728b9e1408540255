"""HTTP plumbing shared by every domain: sessions, authentication, error responses, templates."""
