"""Tasks: operations over HTTP (endpoints.py), the rules (service.py), queries (repository.py), lists (listing/)."""
