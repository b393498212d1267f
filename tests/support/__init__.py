"""Test helpers: a real server process, real PostgreSQL, and tokens."""
