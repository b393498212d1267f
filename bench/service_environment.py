"""The environment every service the bench starts runs with: one auth mode, nothing inherited that changes it."""

from __future__ import annotations


def service_environment(database_url: str, secret: str) -> dict[str, str]:
    """Shared-secret auth with no issuer or audience checks; tracing and metrics off, as in production unless
    an OTLP endpoint or METRICS_PORT is configured (decision 0036)."""
    return {
        "DATABASE_URL": database_url,
        "JWT_SECRET": secret,
        "JWT_ISSUER": "",
        "JWT_AUDIENCE": "",
        "JWKS_URL": "",
        "BETTER_AUTH_SECRET": "",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "",
        "OTEL_TRACES_EXPORTER": "",
        "METRICS_PORT": "",
    }
