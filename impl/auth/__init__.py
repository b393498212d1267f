"""Bearer JWT authentication: who the caller is (tokens.py, jwks.py) and what path they may use (bearer.py)."""
