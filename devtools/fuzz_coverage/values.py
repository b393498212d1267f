"""Whether a value sent for a parameter or body property is one its schema allows, as the service reads it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator, FormatChecker

INTEGER = re.compile(r"-?[0-9]+")
_validators: dict[str, Draft202012Validator] = {}


def _validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    key = json.dumps(schema, sort_keys=True, default=str)
    if key not in _validators:
        _validators[key] = Draft202012Validator(schema, format_checker=FormatChecker())
    return _validators[key]


def _types(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type")
    return {declared} if isinstance(declared, str) else set(declared or ())


def from_wire(value: Any, schema: Mapping[str, Any], location: str) -> Any:
    """A path, query or header value as the service parses it: text that spells an integer or boolean is one."""
    if location == "path" and isinstance(value, str):
        value = unquote(value)
    types = _types(schema)
    if "array" in types and not isinstance(value, list):
        value = [value]
    if isinstance(value, str):
        if "integer" in types and INTEGER.fullmatch(value):
            return int(value)
        if "boolean" in types and value in ("true", "false"):
            return value == "true"
    return value


def is_valid(value: Any, schema: Mapping[str, Any], location: str = "body") -> bool:
    """Whether `value` (sent in `location`) satisfies `schema`."""
    if location != "body":
        value = from_wire(value, schema, location)
    return bool(_validator(schema).is_valid(value))
