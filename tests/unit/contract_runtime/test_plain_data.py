"""A response model's fields as plain data are checked as the model checks them and rendered as it renders them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError, computed_field
from pydantic_core import ErrorDetails

from contract_runtime.plain_data import PlainData
from generated.mock import EXAMPLE_COMPLETED_TASK, EXAMPLE_TASK, EXAMPLE_TASK_PAGE
from generated.models import Health, TagList, Task, TaskPage

TAG_LIST = {"items": [{"name": "home", "task_count": 2}], "limit": 10, "next_cursor": "abc"}
ANSWERS: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (TaskPage, EXAMPLE_TASK_PAGE),
    (TaskPage, {**EXAMPLE_TASK_PAGE, "items": [], "next_cursor": "xyz"}),
    (Task, EXAMPLE_TASK),
    (Task, EXAMPLE_COMPLETED_TASK),
    (TagList, TAG_LIST),
    (Health, {"status": "ok"}),
]


def as_the_service_builds_it(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    """The example as the database would give it: date-times as datetimes, not text."""
    return model.model_validate_json(model.model_validate(example).model_dump_json()).model_dump()


def errors(check: Callable[[Any], Any], value: Any) -> list[tuple[str, tuple[int | str, ...], str]]:
    try:
        check(value)
    except ValidationError as invalid:
        found: list[ErrorDetails] = invalid.errors()
        return [(error["type"], error["loc"], error["msg"]) for error in found]
    return []


@pytest.mark.parametrize(("model", "example"), ANSWERS, ids=lambda value: getattr(value, "__name__", ""))
def test_valid_data_is_rendered_byte_for_byte_as_the_model_renders_it(
    model: type[BaseModel], example: dict[str, Any]
) -> None:
    data = as_the_service_builds_it(model, example)
    plain = PlainData(model)
    checked = plain.validator.validate_python(data)
    assert type(checked) is dict
    rendered = model.__pydantic_serializer__.to_json(model.model_validate(data), by_alias=True)
    assert plain.serializer.to_json(checked, by_alias=True) == rendered


def first_task(page: dict[str, Any]) -> dict[str, Any]:
    task: dict[str, Any] = page["items"][0]
    return task


INVALID_PAGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "an id as text": lambda page: first_task(page).update(id="43"),
    "an id of 0": lambda page: first_task(page).update(id=0),
    "a priority not in the list": lambda page: first_task(page).update(priority="urgent"),
    "a title too long": lambda page: first_task(page).update(title="x" * 201),
    "a title of white space": lambda page: first_task(page).update(title="   "),
    "eleven tags": lambda page: first_task(page).update(tags=[f"t{n}" for n in range(11)]),
    "a naive date-time": lambda page: first_task(page).update(created_at=datetime(2026, 1, 1)),
    "a task field missing": lambda page: first_task(page).pop("title"),
    "a task field too many": lambda page: first_task(page).update(version=3),
    "a page field too many": lambda page: page.update(more=True),
    "a page field missing": lambda page: page.pop("total"),
    "a total as a float": lambda page: page.update(total=2.0),
    "items not a list": lambda page: page.update(items={"0": first_task(page)}),
}


@pytest.mark.parametrize("spoil", INVALID_PAGES.values(), ids=INVALID_PAGES.keys())
def test_invalid_data_fails_with_the_models_own_errors(spoil: Callable[[dict[str, Any]], None]) -> None:
    page = copy.deepcopy(as_the_service_builds_it(TaskPage, EXAMPLE_TASK_PAGE))
    spoil(page)
    found = errors(PlainData(TaskPage).validator.validate_python, page)
    assert found, "the spoiled page passed"
    assert found == errors(TaskPage.model_validate, page)


def test_a_date_time_as_text_is_refused_not_read() -> None:
    task = {**as_the_service_builds_it(Task, EXAMPLE_TASK), "created_at": "2026-11-26T08:00:00Z"}
    assert Task.model_validate(task).created_at == datetime(2026, 11, 26, 8, tzinfo=UTC)  # the model reads text
    assert errors(PlainData(Task).validator.validate_python, task) == [
        ("datetime_type", ("created_at",), "Input should be a valid datetime")
    ]


def test_a_model_instance_inside_plain_data_is_refused() -> None:
    page = {**as_the_service_builds_it(TaskPage, EXAMPLE_TASK_PAGE), "items": [Task.model_validate(EXAMPLE_TASK)]}
    assert [error[:2] for error in errors(PlainData(TaskPage).validator.validate_python, page)] == [
        ("dict_type", ("items", 0))
    ]


def test_a_model_with_a_computed_field_is_not_taken() -> None:
    class Summary(BaseModel):
        count: int

        @computed_field  # type: ignore[prop-decorator]
        @property
        def many(self) -> bool:
            return self.count > 1

    with pytest.raises(TypeError, match="only models of plain fields"):
        PlainData(Summary)
