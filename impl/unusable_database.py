"""A database that answers but that this service will not use."""

from __future__ import annotations


class UnusableDatabase(RuntimeError):
    """The database is reachable, but serving from it would be wrong: a server too old (decision 0031) or a
    schema not at the code's migration head (decision 0034). Clients get 503; the log says why."""
