"""Shared plumbing: canonical base64url, background tasks, the startup heap, a status-noting ASGI send."""
