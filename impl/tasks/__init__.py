"""Tasks: the rules (service.py) and every query (repository.py)."""
