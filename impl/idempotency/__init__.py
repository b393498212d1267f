"""Idempotency-Keys: claiming a key with the create it guards, replaying the first answer, purging expired keys."""
