"""Telemetry: structured logs and request ids, Prometheus metrics, OpenTelemetry traces."""
