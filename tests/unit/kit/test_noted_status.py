"""The send wrapper the request log, metrics and traces report an answer's status from."""

from __future__ import annotations

from starlette.types import Message

from impl.kit.noted_status import NOT_STARTED, StatusNotingSend


class Sent:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)


async def test_the_status_is_the_one_the_answer_started_with() -> None:
    sent = Sent()
    noting = StatusNotingSend(sent)
    await noting({"type": "http.response.start", "status": 412, "headers": []})
    await noting({"type": "http.response.body", "body": b"{}"})
    assert noting.status == 412
    assert [message["type"] for message in sent.messages] == ["http.response.start", "http.response.body"]


async def test_before_any_answer_started_the_status_is_the_servers_500() -> None:
    noting = StatusNotingSend(Sent())
    assert noting.status == NOT_STARTED == 500


async def test_on_start_amends_the_start_before_it_is_sent_and_sees_nothing_else() -> None:
    sent = Sent()
    seen: list[Message] = []

    def add_header(start: Message) -> None:
        seen.append(start)
        start["headers"].append((b"x-request-id", b"abc"))

    noting = StatusNotingSend(sent, on_start=add_header)
    await noting({"type": "http.response.start", "status": 200, "headers": []})
    await noting({"type": "http.response.body", "body": b"", "more_body": False})
    assert len(seen) == 1
    assert sent.messages[0]["headers"] == [(b"x-request-id", b"abc")]
    assert sent.messages[1] == {"type": "http.response.body", "body": b"", "more_body": False}
