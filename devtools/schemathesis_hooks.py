"""Schemathesis hooks (loaded through schemathesis.toml): bearer tokens that get each test case past auth.

The service answers a valid request 403 unless the token's `sub` equals the path's `user_id` (the owner
rule, decision 0055), and Schemathesis draws a new `user_id` for almost every case, so one fixed token
would test little beyond validation and authorization. Two modes, chosen by environment variables
(devtools/fuzz.py sets them; see its docstring):

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
from schemathesis import GenerationMode

from devtools.fuzz import token_for
from devtools.issued_cursors import IssuedCursors, continue_with
from devtools.issued_page_tags import IssuedPageTags
from devtools.stale_if_match import first_header, stale_if_match

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
# The lists whose answers carry `next_cursor`.
PAGED_LISTS = {"/api/{user_id}/tasks", "/api/{user_id}/tags"}
ISSUED_CURSORS = IssuedCursors()
ISSUED_PAGE_TAGS = IssuedPageTags()
# The listTasks parameters that narrow or skip into the list; without them a user with a few tasks
# has more than one page (at a small `limit`).
NARROWING_PARAMETERS = ("status", "q", "tag", "due_before", "due_after", "overdue", "offset")
FIRST_PAGE_LIMIT = 2


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case[Any], kwargs: dict[str, Any]) -> None:
    """Give every valid Idempotency-Key a fresh value, as a client does for each logical request; drop made-up cursors.

    A cursor the service issued for this list (the `nextPage` link passes one on) is sent as a client
    sends it: with the filters, sort and order it was issued for and no offset. In a negative case the
    other parameters stay as generated, since the case is meant to be refused anyway.

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
    if refreshes_a_page(case):
        return
    cursor = case.query.get("cursor") if case.query else None
    if isinstance(cursor, str) and VALID_CURSOR.fullmatch(cursor):
        issued = ISSUED_CURSORS.request_for(cursor, case.formatted_path)
        if issued is None:
            del case.query["cursor"]
        elif case.meta is None or case.meta.generation.mode is GenerationMode.POSITIVE:
            continue_with(case.query, issued)
    if first_page_of_whole_list(case) and "cursor" not in case.query:
        for name in NARROWING_PARAMETERS:
            case.query.pop(name, None)
        case.query["limit"] = FIRST_PAGE_LIMIT


def refreshes_a_page(case: schemathesis.Case[Any]) -> bool:
    """Send a positive listTasks case whose If-None-Match is a page ETag the service issued with that page's query.

    The `refreshPage` link passes the ETag on; a client refreshing the page sends the same query.
    """
    meta = case.meta
    if case.method != "GET" or case.path != "/api/{user_id}/tasks" or meta is None or case.query is None:
        return False
    tag = case.headers.get("If-None-Match") if case.headers else None
    if not isinstance(tag, str) or meta.generation.mode is not GenerationMode.POSITIVE:
        return False
    query = ISSUED_PAGE_TAGS.query_for(tag, case.formatted_path)
    if query is None:
        return False
    case.query.clear()
    case.query.update(query)
    return True


def first_page_of_whole_list(case: schemathesis.Case[Any]) -> bool:
    """Whether to send this listTasks case as a client's first look at the whole list: a stateful positive one.

    Random filters almost never leave more of a user's tasks than a page holds, so the contract's
    `nextPage` link would never have a `next_cursor` to follow; in the stateful phase, whose job is
    sequences of calls, a list request asks for the whole list, two tasks a page (the fuzzing and
    coverage phases still send every filter). Only positive cases: dropping optional valid
    parameters keeps them valid, where it could make a negative case valid.
    """
    meta = case.meta
    if case.method != "GET" or case.path != "/api/{user_id}/tasks" or meta is None or case.query is None:
        return False
    return meta.phase.name == "stateful" and meta.generation.mode is GenerationMode.POSITIVE


@schemathesis.hook
def after_call(context: schemathesis.HookContext, case: schemathesis.Case[Any], response: Any) -> None:
    """Remember each `next_cursor` and list page `ETag` the service answers, for before_call to recognise them."""
    if case.path in PAGED_LISTS and case.method == "GET" and response.status_code == 200:
        try:
            answer = response.json()
        except ValueError:
            return
        ISSUED_CURSORS.remember(case.formatted_path, case.query or {}, answer)
        if case.path == "/api/{user_id}/tasks":
            ISSUED_PAGE_TAGS.remember(case.formatted_path, case.query or {}, first_header(response.headers, "etag"))


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


@schemathesis.check
def stale_if_match_is_refused(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """A successful change sent again with the same, now stale, `If-Match` is 412 (devtools/stale_if_match.py)."""
    etag = first_header(response.headers, "etag")
    stale = stale_if_match(case.method, case.path, case.headers or {}, response.status_code, etag)
    if stale is None:
        return None
    again = case.derive(keep_auth=True)
    ctx.internals.record_case(parent_id=case.id, case=again)
    answer = case.operation.schema.transport.send(again, **(ctx.internals.transport_kwargs or {}))
    ctx.internals.record_response(case_id=again.id, response=answer)
    if answer.status_code != 412:
        raise AssertionError(
            f"The change succeeded with If-Match: {stale} and moved the task to {etag}; sent again with "
            f"that stale If-Match it answered {answer.status_code}, not 412."
        )
    return True
