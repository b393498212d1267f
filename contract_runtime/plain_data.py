"""A response model's checks and serialisation for its fields as plain data: dicts in, dicts out.

Validating an answer as its model builds an instance of the model for it and for every model inside it:
about a microsecond each, 21 of them for a page of twenty tasks. A page the service reads from the
database is plain data already, and is checked only to be serialised at once. The same model's core
schema, with each model turned into a typed dict of the same fields, checks that data field by field
as the model would and builds no instance: decision 0065 measured a list request 15 µs cheaper.

Two differences from the model's own validator, both for values the service builds itself:
- the wire types' text readers (wire_types.TEXT_READERS) are left out. Each is a before-validator, one
  call into Python for every value it sees, that reads a value sent as text (a date-time in a query or a
  body) and hands any other value on. An answer is built from the database, whose date-times are
  datetimes already; text where the model wants a date-time is refused, not read. Another 16 µs of a page.
- a model inside the data must be given as a dict too; an instance of it is refused.

Serialised by a serializer of the same schema, so field aliases and serialisation settings are the model's.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import SchemaSerializer, SchemaValidator

from contract_runtime.wire_types import TEXT_READERS


class PlainData:
    """`model`'s fields as plain data: `validator.validate_python(data)` checks them, `serializer.to_json` renders."""

    def __init__(self, model: type[BaseModel]) -> None:
        schema = as_plain_data(model.__pydantic_core_schema__)
        self.validator = SchemaValidator(schema)
        self.serializer = SchemaSerializer(schema)


def as_plain_data(schema: Any) -> Any:
    """A copy of a core schema with each model a typed dict of its fields, and without the text readers."""
    if isinstance(schema, list):
        return [as_plain_data(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if kind == "function-before" and schema["function"]["function"] in TEXT_READERS:
        return as_plain_data(schema["schema"])
    if kind == "model":
        return model_as_typed_dict(schema)
    return {key: as_plain_data(value) for key, value in schema.items()}


def model_as_typed_dict(model: dict[str, Any]) -> dict[str, Any]:
    if model.get("root_model"):
        root: dict[str, Any] = as_plain_data(model["schema"])  # a RootModel's data is its root value
        return root
    fields_schema = model["schema"]
    if fields_schema.get("type") != "model-fields" or fields_schema.get("computed_fields") or model.get("post_init"):
        raise TypeError(f"{fields_schema.get('model_name')}: only models of plain fields are answered as plain data")
    typed_dict: dict[str, Any] = {
        "type": "typed-dict",
        "fields": {name: typed_dict_field(field) for name, field in fields_schema["fields"].items()},
    }
    for key in ("extras_schema", "extra_behavior", "strict"):
        if key in fields_schema:
            typed_dict[key] = as_plain_data(fields_schema[key])
    for key in ("config", "ref", "metadata"):  # the model's strictness and extra rule are in its config
        if key in model:
            typed_dict[key] = model[key]
    return typed_dict


def typed_dict_field(field: dict[str, Any]) -> dict[str, Any]:
    inner = as_plain_data(field["schema"])
    typed = {key: value for key, value in field.items() if key not in ("type", "schema", "frozen")}
    # A model field is optional exactly when its schema supplies a default.
    return {**typed, "type": "typed-dict-field", "schema": inner, "required": inner.get("type") != "default"}
