"""fastapi-codegen visitor: turns the raw spec into what templates/api.jinja2 renders.

The generator's own operation objects drop parameter constraints (patterns, bounds) and ignore
security; this visitor reads them from the spec itself so the generated layer enforces the
contract exactly as written.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
LOCATIONS = ("path", "query", "header")
SCALAR_TYPES = {"string": "str", "integer": "int", "boolean": "bool", "number": "float"}
CONSTRAINTS = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "minItems": "min_length",
    "maxItems": "max_length",
}
# Parameters arrive as text; these types (contract_runtime/wire_types.py) read them as strictly as the spec
# says, where FastAPI would take "1" as true or "1700000000" as a date-time.
WIRE_TYPES = {("string", "date-time"): "Rfc3339DateTime", ("boolean", None): "TrueOrFalse"}
# What an interface method and its route name their other arguments; a path parameter cannot take them.
RESERVED_NAMES = {"caller", "parameters", "query", "headers", "body", "request", "response"}
# What the generated routes send for deprecated things (decision 0059): set by the route, never by the
# implementation, so they are not in the interface's response-header types.
DEPRECATION_HEADERS = ("Deprecation", "Sunset", "Link")
# The least notice a deprecation gives: its x-sunset at least this many days after its x-deprecated-at.
MIN_NOTICE_DAYS = 90


def snake(name: str) -> str:
    name = re.sub(r"[^0-9A-Za-z]+", "_", name)
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().strip("_")


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", name) if part)


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported: {ref}")
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def ref_name(node: dict[str, Any]) -> str:
    return str(node["$ref"]).rsplit("/", 1)[-1]


def constraint_options(schema: dict[str, Any]) -> list[str]:
    return [f"{CONSTRAINTS[key]}={schema[key]!r}" for key in CONSTRAINTS if key in schema]


def value_annotation(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    """The type that validates a parameter's value; an array's item constraints go on its item type."""
    if "enum" in schema:
        return "Literal[" + ", ".join(repr(v) for v in schema["enum"]) + "]"
    kind = schema.get("type")
    if kind == "array":
        items = resolve(spec, schema.get("items", {}))
        item_type = value_annotation(spec, items)
        if options := constraint_options(items):
            item_type = f"Annotated[{item_type}, Field({', '.join(options)})]"
        return f"list[{item_type}]"
    if (kind, schema.get("format")) in WIRE_TYPES:
        return WIRE_TYPES[(kind, schema.get("format"))]
    if kind not in SCALAR_TYPES:
        raise ValueError(f"unsupported parameter schema: {schema}")
    return SCALAR_TYPES[kind]


def parameter(spec: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """A path, query or header parameter as its location's model declares the field."""
    param = resolve(spec, raw)
    schema = resolve(spec, param.get("schema", {}))
    location = param["in"]
    if location not in LOCATIONS:
        raise ValueError(f"unsupported parameter location: {location}")
    name = param["name"]
    python_name = snake(name)
    options = constraint_options(schema)
    if python_name != name:
        options.insert(0, f"alias={name!r}")
    required = bool(param.get("required", location == "path"))
    wire_annotation = value_annotation(spec, schema)
    if not required and "default" not in schema:
        wire_annotation = f"{wire_annotation} | None"
    if location == "path" and (python_name != name or not required):
        raise ValueError(f"path parameters need a Python name and are required: {name}")
    # Every location's parameters are fields of a model (contract_runtime/parameters.py reads them all).
    field = f"Annotated[{wire_annotation}, Field({', '.join(options)})]" if options else wire_annotation
    if not required:
        field += f" = {schema.get('default')!r}"
    return {"name": python_name, "location": location, "type": wire_annotation, "field": field}


def success_response(spec: dict[str, Any], responses: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    codes = sorted(int(code) for code in responses if code.isdigit() and code.startswith("2"))
    if len(codes) != 1:
        raise ValueError(f"each operation needs exactly one 2xx response, got {codes}")
    return codes[0], resolve(spec, responses[str(codes[0])])


def json_model(content: dict[str, Any] | None) -> str | None:
    if not content:
        return None
    media = content.get("application/json")
    if set(content) != {"application/json"} or media is None or "$ref" not in media.get("schema", {}):
        raise ValueError("bodies must be application/json only, a $ref to a component schema")
    return ref_name(media["schema"])


def spec_date(node: dict[str, Any], key: str, where: str) -> date:
    value = node.get(key)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}: deprecated needs {key}: YYYY-MM-DD, got {value!r}") from None


def python_date(day: date) -> str:
    return f"date({day.year}, {day.month}, {day.day})"


def check_deprecations(node: Any, where: str = "#") -> None:
    """Every `deprecated: true` in the spec says since when and until when, with enough notice between."""
    if isinstance(node, list):
        for index, child in enumerate(node):
            check_deprecations(child, f"{where}/{index}")
        return
    if not isinstance(node, dict):
        return
    if node.get("deprecated") is True:
        deprecated_at = spec_date(node, "x-deprecated-at", where)
        sunset = spec_date(node, "x-sunset", where)
        if sunset < deprecated_at + timedelta(days=MIN_NOTICE_DAYS):
            raise ValueError(
                f"{where}: x-sunset {sunset} is less than {MIN_NOTICE_DAYS} days after x-deprecated-at {deprecated_at}"
            )
    elif "x-sunset" in node or "x-deprecated-at" in node:
        raise ValueError(f"{where}: x-sunset and x-deprecated-at belong to something marked deprecated: true")
    for key, child in node.items():
        check_deprecations(child, f"{where}/{key}")


def deprecation(node: dict[str, Any], docs: dict[str, Any], where: str) -> str | None:
    """A deprecated thing as the generated code's `Deprecation(...)`; None when it is not deprecated.

    `docs` holds its documentation link, `externalDocs.url`: the operation's, a property's schema's, a
    parameter's schema's (a Parameter Object has no externalDocs of its own).
    """
    if node.get("deprecated") is not True:
        return None
    link = (docs.get("externalDocs") or {}).get("url")
    if not link:
        raise ValueError(f"{where}: deprecated needs externalDocs.url, the page its Link header points to")
    deprecated_at = spec_date(node, "x-deprecated-at", where)
    sunset = spec_date(node, "x-sunset", where)
    return f"Deprecation({python_date(deprecated_at)}, {python_date(sunset)}, {link!r})"


def nested_deprecation(spec: dict[str, Any], schema: dict[str, Any], seen: set[int]) -> bool:
    """Whether anything below a body property is deprecated (only a body's own properties are announced)."""
    schema = resolve(spec, schema)
    if id(schema) in seen:
        return False
    seen.add(id(schema))
    children = [*schema.get("properties", {}).values(), *schema.get("allOf", []), *schema.get("anyOf", [])]
    children += [*schema.get("oneOf", []), *([schema["items"]] if isinstance(schema.get("items"), dict) else [])]
    return any(resolve(spec, c).get("deprecated") is True or nested_deprecation(spec, c, seen) for c in children)


def deprecations(
    spec: dict[str, Any], item: dict[str, Any], op: dict[str, Any], success: dict[str, Any]
) -> dict[str, Any]:
    """What an operation's route announces: its own deprecation, and its deprecated parameters and body
    properties by name; the success response must document the headers (required when the operation is)."""
    name = op["operationId"]
    inputs: dict[str, dict[str, str]] = {"query": {}, "header": {}, "body": {}}
    for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
        param = resolve(spec, raw)
        where = f"{name}: parameter {param['name']}"
        if param.get("deprecated") is True and param["in"] == "path":
            raise ValueError(f"{where}: a path parameter cannot be deprecated (every request uses it)")
        found = deprecation(param, resolve(spec, param.get("schema", {})), where)
        if found:
            inputs[param["in"]][param["name"]] = found
    if "requestBody" in op:
        body = resolve(spec, resolve(spec, op["requestBody"])["content"]["application/json"]["schema"])
        for prop_name, raw in body.get("properties", {}).items():
            prop = resolve(spec, raw)
            found = deprecation(prop, prop, f"{name}: body property {prop_name}")
            if found:
                inputs["body"][prop_name] = found
            if nested_deprecation(spec, prop, set()):
                raise ValueError(
                    f"{name}: only a request body's own properties can be deprecated, not below {prop_name}"
                )
    operation_deprecation = deprecation(op, op, name)
    if operation_deprecation or any(inputs.values()):
        declared = {key.lower(): resolve(spec, value) for key, value in success.get("headers", {}).items()}
        for header in DEPRECATION_HEADERS:
            documented = declared.get(header.lower())
            if documented is None or bool(documented.get("required")) != bool(operation_deprecation):
                required = "true" if operation_deprecation else "false"
                raise ValueError(
                    f"{name}: its success response must document the {header} header it may send,"
                    f" required: {required} (decision 0059)"
                )
    return {
        "deprecation": operation_deprecation,
        "deprecated_query": inputs["query"],
        "deprecated_headers": inputs["header"],
        "deprecated_body": inputs["body"],
        "announces": bool(operation_deprecation or any(inputs.values())),
    }


def constant(name: str) -> str:
    return snake(name).upper()


def header_example(spec: dict[str, Any], where: str, name: str, header: dict[str, Any]) -> str:
    """The example value of a header: its own example, else its schema's example, const, first enum value or default."""
    header = resolve(spec, header)
    schema = resolve(spec, header.get("schema", {}))
    candidates: list[Any] = []
    if "example" in header:
        candidates.append(header["example"])
    candidates += [resolve(spec, example).get("value") for example in header.get("examples", {}).values()]
    candidates += [schema["example"]] if "example" in schema else []
    candidates += list(schema.get("examples", []))[:1]
    candidates += [schema[key] for key in ("const", "default") if key in schema] + list(schema.get("enum", []))[:1]
    values = [value for value in candidates if value is not None]
    if not values:
        raise ValueError(f"{where}: header {name} has no example; the mock sends the spec's examples")
    value = values[0]
    return json.dumps(value) if isinstance(value, bool) else str(value)


def example_literals(spec: dict[str, Any], where: str, content: dict[str, Any]) -> tuple[str, list[dict[str, str]]]:
    """A body's media type (the first) and its examples by name, each a Python literal or an example constant."""
    media_type, media = next(iter(content.items()))
    examples: list[dict[str, str]] = []
    for name, example in media.get("examples", {}).items():
        literal = constant("example_" + ref_name(example)) if "$ref" in example else None
        example = resolve(spec, example)
        if "value" not in example:
            raise ValueError(f"{where}: example {name} has no value (externalValue is not read)")
        examples.append({"name": name, "key": repr(name), "literal": literal or repr(example["value"])})
    if not examples:
        schema = resolve(spec, media.get("schema", {}))
        for owner in (media, schema):
            if "example" in owner or owner.get("examples"):
                value = owner["example"] if "example" in owner else owner["examples"][0]
                examples.append({"name": "example", "key": repr("example"), "literal": repr(value)})
                break
    if not examples:
        raise ValueError(
            f"{where} has no example: the mock answers with the spec's examples, so every answer with a body "
            "needs one (`examples` under its content)"
        )
    return repr(media_type), examples


def documented(spec: dict[str, Any], where: str, response: dict[str, Any]) -> dict[str, Any]:
    """One documented answer as the mock's `Documented`: media type, examples, the headers it always carries."""
    response = resolve(spec, response)
    media_type, examples = ("None", [])
    if response.get("content"):
        media_type, examples = example_literals(spec, where, response["content"])
    headers = [
        {"key": repr(name), "literal": repr(header_example(spec, where, name, header))}
        for name, header in response.get("headers", {}).items()
        if name.lower() != "content-type" and resolve(spec, header).get("required")
    ]
    return {"media_type": media_type, "examples": examples, "headers": headers}


def mocked(spec: dict[str, Any], op: dict[str, Any], status_code: int) -> dict[str, Any]:
    """What the mock answers an operation with: each documented status, its answer shared when it is a component."""
    responses = []
    for code in sorted((code for code in op["responses"] if code.isdigit()), key=int):
        response = op["responses"][code]
        where = f"{op['operationId']}'s {code} answer"
        shared = constant("response_" + ref_name(response)) if "$ref" in response else None
        responses.append({"status": int(code), "shared": shared, "documented": documented(spec, where, response)})
    return {"constant": constant(op["operationId"]), "success": status_code, "responses": responses}


def operation(spec: dict[str, Any], path: str, method: str, item: dict[str, Any]) -> dict[str, Any]:
    op = item[method]
    params = [parameter(spec, p) for p in [*item.get("parameters", []), *op.get("parameters", [])]]
    body = None
    if "requestBody" in op:
        request = resolve(spec, op["requestBody"])
        body = {"model": json_model(request["content"]), "required": bool(request.get("required"))}
    status_code, success = success_response(spec, op["responses"])
    headers = [
        {"name": name, "required": bool(resolve(spec, header).get("required"))}
        for name, header in sorted(success.get("headers", {}).items())
        if name.lower() not in {h.lower() for h in DEPRECATION_HEADERS}
    ]
    security = op.get("security", spec.get("security", []))
    schemes = sorted({name for requirement in security for name in requirement})
    if len(schemes) > 1:
        # The interface's `caller` is what one scheme verified; which of several would be a guess.
        raise ValueError(f"{op['operationId']} names {schemes}: one security scheme per operation is supported")
    response_model = json_model(success.get("content"))
    # An operation with a JSON answer returns its model, or the model's fields as plain data (decision 0065).
    result = f"{response_model} | PlainFields" if response_model else "None"
    headers_type = None
    if headers:
        headers_type = pascal(op["operationId"]) + "ResponseHeaders"
        result = f"tuple[{result}, {headers_type}]"
    by_location = {location: [p for p in params if p["location"] == location] for location in LOCATIONS}
    for param in by_location["path"]:
        if param["name"] in RESERVED_NAMES:
            raise ValueError(f"{op['operationId']}: a path parameter may not be named {param['name']!r}")
    path_model = pascal(op["operationId"]) + "Path" if by_location["path"] else None
    query_model = pascal(op["operationId"]) + "Query" if by_location["query"] else None
    header_model = pascal(op["operationId"]) + "Headers" if by_location["header"] else None
    parameters_model = pascal(op["operationId"]) + "Parameters" if path_model or query_model or header_model else None
    # The interface method's keyword arguments, as the interface and every implementation declare them.
    signature = ["caller: Principal"] if schemes else []
    signature += [f"{param['name']}: {param['type']}" for param in by_location["path"]]
    signature += [f"query: {query_model}"] if query_model else []
    signature += [f"headers: {header_model}"] if header_model else []
    if body:
        signature.append(f"body: {body['model']}" + ("" if body["required"] else " | None"))
    return {
        "operation_id": op["operationId"],
        "name": snake(op["operationId"]),
        "method": method.upper(),
        "path": path,
        "summary": op.get("summary", ""),
        "tag": (op.get("tags") or ["default"])[0],
        "path_params": by_location["path"],
        "path_model": path_model,
        "parameters_model": parameters_model,
        "query_params": by_location["query"],
        "query_model": query_model,
        "header_params": by_location["header"],
        "header_model": header_model,
        "body": body,
        "status_code": status_code,
        "response_model": response_model,
        "headers": headers,
        "headers_type": headers_type,
        "result": result,
        "scheme": snake(schemes[0]) if schemes else None,
        **deprecations(spec, item, op, success),
        "signature": signature,
        "mock": mocked(spec, op, status_code),
    }


def shared_examples(spec: dict[str, Any], operations: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The component examples the mock's answers name, each once, as Python literals."""
    named = {
        example["literal"]
        for op in operations
        for response in op["mock"]["responses"]
        for example in response["documented"]["examples"]
    }
    examples = spec.get("components", {}).get("examples", {})
    return [
        {"constant": constant("example_" + name), "literal": repr(resolve(spec, example)["value"])}
        for name, example in examples.items()
        if constant("example_" + name) in named
    ]


def shared_responses(spec: dict[str, Any], operations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The component responses the operations name, each once, as the mock documents them."""
    named = {response["shared"] for op in operations for response in op["mock"]["responses"] if response["shared"]}
    responses = spec.get("components", {}).get("responses", {})
    return [
        {"constant": constant("response_" + name), "documented": documented(spec, f"response {name}", response)}
        for name, response in responses.items()
        if constant("response_" + name) in named
    ]


def visit(parser: Any, model_path: Path) -> dict[str, object]:
    spec: dict[str, Any] = parser.raw_obj
    check_deprecations(spec)
    operations = [
        operation(spec, path, method, item)
        for path, item in spec["paths"].items()
        for method in HTTP_METHODS
        if method in item
    ]
    tags = sorted({op["tag"] for op in operations})
    interfaces = [
        {
            "tag": tag,
            "class_name": pascal(tag) + "Api",
            "argument": snake(tag),
            "operations": [op for op in operations if op["tag"] == tag],
        }
        for tag in tags
    ]
    models = sorted({m for op in operations for m in (op["response_model"], op["body"] and op["body"]["model"]) if m})
    schemes = [
        {"name": name, "variable": snake(name)}
        for name in sorted(spec.get("components", {}).get("securitySchemes", {}))
    ]
    return {
        "api_operations": operations,
        "mock_examples": shared_examples(spec, operations),
        "mock_responses": shared_responses(spec, operations),
        "api_interfaces": interfaces,
        "api_models": models,
        "security_schemes": schemes,
        "model_module": model_path.stem,
        "api_deprecations": any(op["announces"] for op in operations),
    }
