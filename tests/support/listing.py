"""Reading a user's task list in tests: one page, asserted to be a 200."""

from __future__ import annotations

from typing import Any

from tests.support.users import User


def listing(user: User, **params: Any) -> dict[str, Any]:
    response = user.request("GET", user.tasks_path, params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def titles(page: dict[str, Any]) -> list[str]:
    return [task["title"] for task in page["items"]]


def ids(page: dict[str, Any]) -> list[int]:
    return [task["id"] for task in page["items"]]
