"""A user of the service, as the tests drive it: a valid token and the paths they own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from tests.support.tokens import bearer, shared_secret_token


class TaskOwner(Protocol):
    """A test's user as the database-side helpers see it, whichever way its requests are sent."""

    @property
    def id(self) -> str: ...

    @property
    def tasks_path(self) -> str: ...


@dataclass
class User:
    """A user of the service with a valid token, and the paths they own."""

    id: str
    http: httpx.Client

    @property
    def headers(self) -> dict[str, str]:
        return bearer(shared_secret_token(self.id))

    @property
    def tasks_path(self) -> str:
        return f"/api/{self.id}/tasks"

    def task_path(self, task_id: int) -> str:
        return f"{self.tasks_path}/{task_id}"

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def create(self, title: str = "Buy milk", **fields: Any) -> dict[str, Any]:
        response = self.request("POST", self.tasks_path, json={"title": title, **fields})
        assert response.status_code == 201, response.text
        task: dict[str, Any] = response.json()
        return task


def new_user_id() -> str:
    return f"user_{uuid.uuid4().hex[:12]}"
