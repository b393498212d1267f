# Everything a developer runs. Each target installs what it needs (only Python 3.11+ is assumed).
SHELL := /bin/bash
PYTHON := .venv/bin/python
UV := scripts/uv.sh

.PHONY: install run token regen check-generated lint typecheck test fuzz clean

install: .venv/.synced

.venv/.synced: pyproject.toml uv.lock scripts/uv.sh
	$(UV) sync --frozen --quiet
	@touch $@

run: install ## Serve the API on http://127.0.0.1:8000 (embedded PostgreSQL unless DATABASE_URL is set)
	$(PYTHON) -m devtools.serve

token: install ## Mint a development token: make -s token USER_ID=alice
	@$(PYTHON) -m devtools.token $(USER_ID)

regen: ## Regenerate generated/ from openapi/tasks.yaml
	scripts/regen.sh

check-generated: ## Fail when generated/ is not what the spec and templates produce
	scripts/check-generated.sh

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: install
	.venv/bin/mypy

test: install check-generated lint typecheck ## Everything CI runs
	$(PYTHON) -m pytest

fuzz: install ## Schemathesis against a running instance: FUZZ_URL=... (see README)
	$(PYTHON) -m devtools.fuzz

clean:
	rm -rf .venv .tools .data reports .mypy_cache .ruff_cache .pytest_cache
