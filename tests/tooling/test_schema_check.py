"""The response-schema check the data-exposure tests rely on catches what it must."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.contract import schema_violations

TASK_PAGE = {"$ref": "#/components/schemas/TaskPage"}
VALIDATION_PROBLEM = {"$ref": "#/components/schemas/ValidationProblem"}
PROBLEM = {"$ref": "#/components/schemas/Problem"}


def task(**changes: Any) -> dict[str, Any]:
    return {
        "id": 1,
        "title": "Buy milk",
        "description": None,
        "completed": False,
        "priority": "medium",
        "due_at": None,
        "tags": [],
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        **changes,
    }


def page(*items: dict[str, Any]) -> dict[str, Any]:
    return {"items": list(items), "total": len(items), "limit": 20, "offset": 0, "next_cursor": None}


def validation_problem(**changes: Any) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "1 invalid input.",
        "instance": "/api/alice/tasks",
        "errors": [{"pointer": "/title", "message": "Too short."}],
        **changes,
    }


def test_answers_that_fit_the_contract_pass() -> None:
    assert schema_violations(page(task(), task(id=2)), TASK_PAGE, exact=True) == []
    assert schema_violations(validation_problem(), VALIDATION_PROBLEM, exact=False) == []


@pytest.mark.parametrize("exact", [True, False])
def test_an_extra_field_fails_however_deep(exact: bool) -> None:
    assert schema_violations({**page(), "user_id": "alice"}, TASK_PAGE, exact=exact)
    assert schema_violations(page(task(user_id="alice")), TASK_PAGE, exact=exact)


def test_an_extra_member_of_a_problem_fails_though_the_spec_leaves_problems_open() -> None:
    assert schema_violations(validation_problem(user_id="alice"), VALIDATION_PROBLEM, exact=False)
    assert schema_violations({**validation_problem(), "errors": []}, PROBLEM, exact=False)
    entry = {"pointer": "/title", "message": "Too short.", "value": "secret"}
    assert schema_violations(validation_problem(errors=[entry]), VALIDATION_PROBLEM, exact=False)


@pytest.mark.parametrize(
    "wrong",
    [task(id="1"), task(completed="false"), task(priority="urgent"), task(tags="x"), task(due_at=1)],
    ids=["id", "completed", "priority", "tags", "due_at"],
)
def test_a_wrong_type_fails(wrong: dict[str, Any]) -> None:
    assert schema_violations(page(wrong), TASK_PAGE, exact=True)


def test_a_missing_required_field_fails() -> None:
    answer = task()
    del answer["title"]
    assert schema_violations(page(answer), TASK_PAGE, exact=False)
    assert schema_violations(validation_problem(errors=[{"pointer": "/title"}]), VALIDATION_PROBLEM, exact=False)


def test_exact_asks_for_the_optional_fields_too() -> None:
    without_instance = validation_problem()
    del without_instance["instance"]
    assert schema_violations(without_instance, VALIDATION_PROBLEM, exact=False) == []
    assert schema_violations(without_instance, VALIDATION_PROBLEM, exact=True)
