"""A request body read as JSON: parsed once, and a malformed one is one error that says why, not what."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import Message

from contract_runtime.request_body import MALFORMED_BODY, JsonBodyRequest, MalformedBody


def request_with_body(body: bytes) -> JsonBodyRequest:
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    return JsonBodyRequest(scope, receive)


def read_json(body: bytes) -> object:
    return asyncio.run(request_with_body(body).json())


def test_a_json_body_is_parsed() -> None:
    assert read_json(b'{"title": "Buy milk"}') == {"title": "Buy milk"}


def test_a_body_is_parsed_once() -> None:
    async def twice() -> tuple[object, object]:
        request = request_with_body(b"[1]")
        return await request.json(), await request.json()

    first, second = asyncio.run(twice())
    assert first is second


@pytest.mark.parametrize("body", [b'{"title": "unterminated', b"{", b"nope", b'{"a": 1,}'])
def test_text_that_is_not_json_is_a_malformed_body_that_says_where(body: bytes) -> None:
    with pytest.raises(MalformedBody) as raised:
        read_json(body)
    assert raised.value.status_code == 400
    assert raised.value.detail == MALFORMED_BODY
    assert "line 1, column" in raised.value.reason
    assert body.decode() not in raised.value.reason


def test_bytes_that_are_not_utf8_are_a_malformed_body() -> None:
    with pytest.raises(MalformedBody) as raised:
        read_json(b'{"title": "\xff\xfe"}')
    assert raised.value.reason == "The body is not UTF-8 text."
