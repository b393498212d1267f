"""How the mock picks an operation's answer from what the request's Prefer header states (Prism's conventions)."""

from __future__ import annotations

import pytest

from contract_runtime.mock import (
    PREFER,
    Documented,
    ExampleAnswer,
    MockedOperation,
    UnsatisfiablePreference,
    preferences,
)

PAGE = {"items": [1], "total": 1}
EMPTY = {"items": [], "total": 0}
OPERATION = MockedOperation(
    "listThings",
    success=200,
    responses={
        200: Documented("application/json", {"page": PAGE, "empty": EMPTY}, {"ETag": '"1"'}),
        304: Documented(headers={"ETag": '"1"'}),
        404: Documented("application/problem+json", {"notFound": {"status": 404}}),
        422: Documented("application/problem+json", {"invalid": {"status": 422}, "reused": {"status": 422}}),
    },
)


def test_preferences_are_comma_separated_names_and_values_the_first_of_a_name_counting() -> None:
    assert preferences('code=404, Example="notFound", code=500, respond-async') == {
        "code": "404",
        "example": "notFound",
        "respond-async": "",
    }


def test_a_semicolon_separates_preferences_too() -> None:
    assert preferences("code=422;example=reused") == {"code": "422", "example": "reused"}


def test_without_a_preference_the_success_answers_with_its_first_example() -> None:
    answer = OPERATION.choose({})
    assert (answer.status, answer.example, answer.body, dict(answer.headers)) == (200, "page", PAGE, {"ETag": '"1"'})


def test_an_example_is_found_in_the_success_answer_first() -> None:
    assert OPERATION.choose({"example": "empty"}).body == EMPTY


def test_an_example_of_another_answer_picks_that_answer() -> None:
    answer = OPERATION.choose({"example": "reused"})
    assert (answer.status, answer.example, answer.media_type) == (422, "reused", "application/problem+json")


def test_a_code_picks_its_answer_and_that_answers_first_example() -> None:
    assert (OPERATION.choose({"code": "422"}).status, OPERATION.choose({"code": "422"}).example) == (422, "invalid")


def test_a_code_without_a_body_answers_its_headers_alone() -> None:
    answer = OPERATION.choose({"code": "304"})
    assert (answer.status, answer.example, answer.body, dict(answer.headers)) == (304, None, None, {"ETag": '"1"'})


def test_a_code_and_an_example_must_agree() -> None:
    assert OPERATION.choose({"code": "422", "example": "reused"}).example == "reused"
    with pytest.raises(UnsatisfiablePreference, match=r"example=empty is not an example of its 422 answer"):
        OPERATION.choose({"code": "422", "example": "empty"})


@pytest.mark.parametrize("code", ["418", "2xx", ""])
def test_an_undocumented_code_names_the_documented_ones(code: str) -> None:
    with pytest.raises(UnsatisfiablePreference, match=rf"code={code} is not documented for listThings; documented: "):
        OPERATION.choose({"code": code})
    with pytest.raises(UnsatisfiablePreference, match=r"documented: 200, 304, 404, 422$"):
        OPERATION.choose({"code": code})


def test_an_unknown_example_names_every_example_by_status() -> None:
    with pytest.raises(UnsatisfiablePreference) as refused:
        OPERATION.choose({"example": "nope"})
    assert refused.value.message == (
        "example=nope is not an example of its answers (listThings); "
        "examples: 200: page, empty; 404: notFound; 422: invalid, reused"
    )


def test_the_success_is_returned_and_any_other_answer_raised() -> None:
    token = PREFER.set("example=empty")
    try:
        assert OPERATION.answer().body == EMPTY
        PREFER.set("code=404")
        with pytest.raises(ExampleAnswer) as raised:
            OPERATION.answer()
        assert raised.value.answer.status == 404
    finally:
        PREFER.reset(token)
