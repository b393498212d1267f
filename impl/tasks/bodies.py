"""What a request body means for the stored task: defaults for omitted fields, stored tags, a fingerprint."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from generated.models import TaskCreate, TaskReplace, TaskUpdate
from impl.http.problems import UnprocessableContent
from impl.tasks.tags import task_tags

# What omitting a field added in contract 1.2.0 means on create and replace (the spec's descriptions say
# so; it has no `default:` for them, see openapi/tasks.yaml). Tasks created before 1.2.0 got these too.
FIELDS_SINCE_1_2: dict[str, Any] = {"priority": "medium", "due_at": None, "tags": []}
# Every optional field without a `default:` in the spec is MISSING in the generated models when omitted
# (left out of model_dump); on create and replace omitting it means this (decision 0017).
DEFAULTS_WHEN_OMITTED: dict[str, Any] = {"description": None, **FIELDS_SINCE_1_2}
# asyncpg sends the first and the last instant Python's datetime holds as PostgreSQL's -infinity and
# infinity, and reads those back as datetimes without a time zone: a task due then could never be
# answered again. Every other instant of years 1 to 9999 (UTC) is stored as given.
UNSTORABLE_INSTANTS = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))


def storable_due_at(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields, unless their due date is one PostgreSQL would store as an infinity (422)."""
    if fields.get("due_at") in UNSTORABLE_INSTANTS:
        raise UnprocessableContent(
            "The due date must be later than 0001-01-01T00:00:00Z and earlier than 9999-12-31T23:59:59.999999Z.",
            pointer="/due_at",
            message="Must be later than 0001-01-01T00:00:00Z and earlier than 9999-12-31T23:59:59.999999Z",
        )
    return fields


def new_task_fields(body: TaskCreate | TaskReplace) -> dict[str, Any]:
    """Every client-settable field of a created or replaced task: what the body says, else its default."""
    fields = {**DEFAULTS_WHEN_OMITTED, **body.model_dump()}
    fields["tags"] = task_tags(fields["tags"])
    return storable_due_at(fields)


def changed_fields(body: TaskUpdate) -> dict[str, Any]:
    """The fields a partial update sets, and only those (the omitted ones are MISSING, which model_dump leaves out)."""
    fields = body.model_dump()
    if "tags" in fields:
        fields["tags"] = task_tags(fields["tags"])
    return storable_due_at(fields)


def request_fingerprint(fields: dict[str, Any]) -> str:
    """Equal for the same create however the JSON was spelled (key order, omitted nulls and defaults, case of tags).

    Fields added in 1.2.0 are left out at their defaults, so that a retry of a create first sent before
    1.2.0 still matches its stored key.
    """
    canonical_fields = {name: value for name, value in fields.items() if FIELDS_SINCE_1_2.get(name, ...) != value}
    canonical = json.dumps(canonical_fields, sort_keys=True, separators=(",", ":"), default=_json_value)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"no canonical JSON for {type(value).__name__}")
