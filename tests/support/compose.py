"""compose.yaml read as Docker Compose reads it: `${NAME}` interpolated from the given variables, then services."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

# $$, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, $NAME (the Compose spec's forms).
INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>\w+)(?:(?P<operator>:?[-?])(?P<argument>[^}]*))?\}|(?P<bare>\w+))"
)
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)")
SECONDS_PER_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 0.000001}


class MissingVariable(Exception):
    """A `${NAME?error}` or `${NAME:?error}` whose variable is missing: Compose stops with the error."""


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("name") or match.group("bare")
        operator, argument = match.group("operator"), match.group("argument") or ""
        value = variables.get(name)
        missing = value is None or (value == "" and operator is not None and operator.startswith(":"))
        if operator is not None and operator.endswith("?") and missing:
            raise MissingVariable(f"{name}: {argument}")
        if operator is not None and operator.endswith("-") and missing:
            return argument
        return value or ""

    return INTERPOLATION.sub(replace, text)


def interpolated(node: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, variables)
    if isinstance(node, list):
        return [interpolated(item, variables) for item in node]
    if isinstance(node, dict):
        return {key: interpolated(value, variables) for key, value in node.items()}
    return node


def load(path: Path, variables: Mapping[str, str]) -> dict[str, Any]:
    """The whole file with YAML anchors and merge keys resolved and every string interpolated."""
    document: dict[str, Any] = interpolated(yaml.safe_load(path.read_text()), variables)
    return document


def environment(service: dict[str, Any]) -> dict[str, str]:
    """The service's `environment` (the mapping form), values as strings."""
    given = service.get("environment") or {}
    assert isinstance(given, dict), "environment: the mapping form (NAME: value), please"
    return {str(name): "" if value is None else str(value) for name, value in given.items()}


def command(services: dict[str, Any], name: str) -> list[str] | None:
    """The service's `command`, which replaces the image's CMD; None when it keeps it. Exec form only."""
    command = services[name].get("command")
    assert command is None or isinstance(command, list), f"{name}: command in exec form (a list), please"
    return command


def duration_seconds(duration: str) -> float:
    """A Compose duration such as `15s` or `1m30s`."""
    parts = DURATION_PART.findall(duration)
    assert "".join(number + unit for number, unit in parts) == duration, f"{duration!r} is not a duration"
    return sum(float(number) * SECONDS_PER_UNIT[unit] for number, unit in parts)


def env_file(path: Path, environment: Mapping[str, str]) -> dict[str, str]:
    """The variables `docker compose --env-file path` interpolates with: the file's lines, each interpolated
    from the environment and the lines before it, and the environment over them all (Compose's precedence).

    Unquoted and double-quoted values are interpolated, single-quoted ones taken literally.
    """
    variables: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, separator, value = line.partition("=")
        assert separator, f"{path.name}:{number}: expected NAME=value"
        assert re.fullmatch(r"\w+", name), f"{path.name}:{number}: {name!r} is not a variable name"
        if value.startswith("'") and value.endswith("'") and len(value) > 1:
            variables[name] = value[1:-1]
            continue
        if value.startswith('"') and value.endswith('"') and len(value) > 1:
            value = value[1:-1]
        variables[name] = interpolate(value, {**variables, **environment})
    return variables | dict(environment)


def services_to_run(document: dict[str, Any], profiles: str) -> dict[str, Any]:
    """The services `docker compose up` starts with COMPOSE_PROFILES=profiles: those in no profile, and
    those in one of the given profiles."""
    active = {profile.strip() for profile in profiles.split(",") if profile.strip()}
    services: dict[str, Any] = document["services"]
    return {
        name: service
        for name, service in services.items()
        if not service.get("profiles") or active & set(service["profiles"])
    }
