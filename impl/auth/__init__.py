"""Bearer JWT authentication: who the caller is (tokens.py, jwks.py), as the `bearerAuth` principal (bearer.py)."""
