"""Developer commands: an embedded PostgreSQL, the dev server launcher, and development tokens."""
