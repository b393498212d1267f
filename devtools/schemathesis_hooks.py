"""Schemathesis hooks (loaded through schemathesis.toml): bearer tokens that get each test case past auth.

The service answers 403 unless the token's `sub` equals the path's `user_id`, and Schemathesis draws a new
`user_id` for almost every case, so one fixed token would test little beyond authorization. Two modes,
chosen by environment variables (devtools/fuzz.py sets them; see its docstring):

- FUZZ_JWT_SECRET (with FUZZ_JWT_ISSUER / FUZZ_JWT_AUDIENCE when the service checks them): mint, per
  case, an HS256 token whose `sub` is that case's `user_id`;
- FUZZ_TOKEN with FUZZ_USER_ID, its `sub` (a deployed service whose issuer we cannot sign for): send that
  token, and narrow the spec's `user_id` to that one value for this run, so that valid cases use the
  only paths the token opens and invalid ones are any other user's.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any
from urllib.parse import unquote

import schemathesis

from devtools.fuzz import token_for

# Operations without a `user_id` (the public probes) still get a token: it is ignored there.
NO_USER = "schemathesis"


# No caching (refresh_interval=None): every case gets a token for its own user_id.
@schemathesis.auth(refresh_interval=None)
class CaseUserToken:
    """A token whose `sub` is the case's `user_id` path parameter, whatever value was generated for it."""

    def get(self, case: schemathesis.Case[Any], context: schemathesis.AuthContext) -> str:
        # Schemathesis keeps path parameters percent-encoded, as they go on the wire; the service decodes them.
        user_id = case.path_parameters.get("user_id")
        return token_for(NO_USER if user_id is None else unquote(str(user_id)))

    def set(self, case: schemathesis.Case[Any], data: str, context: schemathesis.AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


def user_id_parameters(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every `user_id` path parameter object in the spec, shared components and inline ones."""
    candidates = list(spec.get("components", {}).get("parameters", {}).values())
    for item in spec.get("paths", {}).values():
        candidates += item.get("parameters", [])
        candidates += [p for op in item.values() if isinstance(op, dict) for p in op.get("parameters", [])]
    return [p for p in candidates if p.get("in") == "path" and p.get("name") == "user_id"]


@schemathesis.hook
def before_load_schema(context: schemathesis.HookContext, raw_schema: dict[str, Any]) -> None:
    fixed_user_id = os.environ.get("FUZZ_USER_ID") if os.environ.get("FUZZ_TOKEN") else None
    if fixed_user_id:
        for parameter in user_id_parameters(raw_schema):
            parameter["schema"] = {"type": "string", "enum": [fixed_user_id]}


VALID_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7E]{1,255}")
# listTasks' and listTags' `cursor` pattern: a value matching it is schema-valid, but only the service can issue one.
VALID_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,2048}")


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case[Any], kwargs: dict[str, Any]) -> None:
    """Give every valid Idempotency-Key a fresh value, as a client does for each logical request; drop made-up cursors.

    Generated keys repeat across cases with different bodies, and a key reused with another body is
    rightly 422; tests/api/test_idempotency.py owns that rule. Invalid keys are left as generated,
    so negative cases still test their rejection.
    """
    key = case.headers.get("Idempotency-Key") if case.headers else None
    if isinstance(key, str) and VALID_IDEMPOTENCY_KEY.fullmatch(key):
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    # A schema-valid cursor the fuzzer made up was never issued by the service, so it is rightly 422
    # (tests/api/test_cursor_paging.py owns that rule): send the case as a client without a cursor
    # would. Cursors that break the pattern stay, so negative cases still test their rejection.
    cursor = case.query.get("cursor") if case.query else None
    if isinstance(cursor, str) and VALID_CURSOR.fullmatch(cursor):
        del case.query["cursor"]


@schemathesis.hook
def filter_body(context: schemathesis.HookContext, body: Any) -> bool:
    """Leave out bodies whose tags differ only in case (["a", "A"]), which JSON Schema cannot forbid.

    `uniqueItems` rules out exact repeats only, so such a body is schema-valid yet rightly 422: tags
    ignore case (decision 0014, tests/api/test_tags.py). Every other body is generated as usual.
    """
    tags = body.get("tags") if isinstance(body, dict) else None
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        return True
    return len({tag.lower() for tag in tags}) == len(set(tags))
