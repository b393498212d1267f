# The tasks-api service (docs/deploy.md): `docker build -t tasks-api .`, then `tasks-api migrate` once per
# release and `tasks-api serve` (the default command). tests/deploy/test_image.py runs what this file says.

# The build stage: uv (the version scripts/uv.sh pins) installs the locked runtime dependencies and the
# project, editable as decision 0034 says, into /app/.venv; no dev dependencies.
FROM python:3.11-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# The dependencies first: this layer changes only with the lock.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev --no-install-project
# What the service reads at run time: its packages, the migrations and the spec beside them.
COPY impl ./impl
COPY generated ./generated
COPY contract_runtime ./contract_runtime
COPY alembic ./alembic
COPY alembic.ini ./
COPY openapi ./openapi
# The licence goes with every copy of the code; hatchling puts it into the installed project's metadata.
COPY LICENSE ./
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev

# The runtime stage: the same Python at the same path (the venv points at it), no uv.
FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 tasks-api \
 && useradd --system --uid 10001 --gid tasks-api --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin tasks-api
WORKDIR /app
# Owned by root: the service cannot change its own code (the bytecode is compiled at build time).
COPY --from=build /app /app
# WEB_CONCURRENCY (worker processes, default 1) is left to the operator: one process per container and
# more containers is the usual choice; each process opens up to DB_POOL_MAX_SIZE connections (docs/neon.md).
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8000 \
    GRACEFUL_SHUTDOWN_SECONDS=10
# Numeric, so that an orchestrator's runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
CMD ["tasks-api", "serve"]
