"""`make bench`: the service against its database limit and its Python stack limit (see README.md here)."""
