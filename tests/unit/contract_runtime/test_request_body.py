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


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_json_in_another_unicode_encoding_is_a_malformed_body(encoding: str) -> None:
    # json.loads() on bytes would detect these encodings and read them; RFC 8259 section 8.1 says UTF-8.
    with pytest.raises(MalformedBody):
        read_json('{"title": "Buy milk"}'.encode(encoding))


def test_a_byte_order_mark_is_a_malformed_body_that_says_so() -> None:
    with pytest.raises(MalformedBody) as raised:
        read_json(b'\xef\xbb\xbf{"title": "Buy milk"}')
    assert "byte order mark" in raised.value.reason


@pytest.mark.parametrize("body", [b"[" * 60_000, b"[" * 2_000 + b"]" * 2_000, b'{"a": ' * 2_000 + b"1" + b"}" * 2_000])
def test_json_nested_too_deeply_is_a_malformed_body(body: bytes) -> None:
    with pytest.raises(MalformedBody) as raised:
        read_json(body)
    assert "nested" in raised.value.reason


@pytest.mark.parametrize("number", [b"9" * 5_000, b"-" + b"1" * 60_000])
def test_a_number_with_more_digits_than_the_service_reads_is_a_malformed_body(number: bytes) -> None:
    with pytest.raises(MalformedBody) as raised:
        read_json(b'{"n": ' + number + b"}")
    assert "digits" in raised.value.reason


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_a_number_json_does_not_have_is_a_malformed_body(constant: bytes) -> None:
    with pytest.raises(MalformedBody) as raised:
        read_json(b'{"n": ' + constant + b"}")
    assert "not a JSON number" in raised.value.reason
