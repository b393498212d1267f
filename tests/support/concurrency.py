"""Requests that reach the service together: each over its own connection, released at one barrier."""

from __future__ import annotations

import threading
from typing import Any

import httpx

# (method, path, httpx request keywords)
Request = tuple[str, str, dict[str, Any]]


def send_at_once(base_url: str, requests: list[Request]) -> list[httpx.Response]:
    """Send every request at the same moment, each from its own thread and connection; the responses in order."""
    return send_at_once_to([(base_url, request) for request in requests])


def send_at_once_to(addressed: list[tuple[str, Request]]) -> list[httpx.Response]:
    """Send each request to its own base URL (one of several instances, say) at the same moment; the responses."""
    barrier = threading.Barrier(len(addressed))
    responses: list[httpx.Response | None] = [None] * len(addressed)

    def send(index: int) -> None:
        base_url, (method, path, kwargs) = addressed[index]
        with httpx.Client(base_url=base_url, timeout=30) as client:
            client.get("/healthz")  # connect first, so the requests leave together
            barrier.wait()
            responses[index] = client.request(method, path, **kwargs)

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(addressed))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(response is not None for response in responses)
    return [response for response in responses if response is not None]
