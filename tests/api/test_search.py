"""Search: `q` finds text in the title or description, ignoring case, and every character means itself."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.listing import listing
from tests.support.problems import assert_invalid
from tests.support.users import User

# Each title holds one character LIKE, SQL or JSON could treat specially; the search must find that
# title and no other.
TRICKY_TITLES = {
    "%": "100% done",
    "_": "snake_case names",
    "\\": "C:\\temp\\files",
    "'": "Bob's report",
    '"': 'the "quoted" word',
    "%_": "50%_off",
    "\\%": "odd \\% pair",
}
PLAIN_TITLES = ["1000 done", "snake case names", "C: temp files", "Bobs report", "the quoted word", "500 off"]


def found(user: User, q: str, **params: Any) -> list[str]:
    return sorted(task["title"] for task in listing(user, q=q, **params)["items"])


def test_q_finds_text_in_the_title(alice: User) -> None:
    alice.create("Buy milk")
    alice.create("Walk the dog")
    assert found(alice, "milk") == ["Buy milk"]


def test_q_finds_text_in_the_description(alice: User) -> None:
    alice.create("Shopping", description="Two litres of milk")
    alice.create("Errands", description=None)
    assert found(alice, "litres") == ["Shopping"]


def test_q_finds_text_anywhere_in_a_word(alice: User) -> None:
    alice.create("Rebuild the shed")
    assert found(alice, "uild the sh") == ["Rebuild the shed"]


def test_q_ignores_case(alice: User) -> None:
    alice.create("Buy MILK")
    assert found(alice, "mIlK") == ["Buy MILK"]


@pytest.mark.parametrize(
    ("stored", "searched"), [("été", "ÉTÉ"), ("ÉTÉ", "été"), ("Straße", "STRAẞE"), ("ΣΟΦΙΑ", "σοφια")]
)
def test_q_ignores_case_beyond_ascii(alice: User, stored: str, searched: str) -> None:
    alice.create(f"Vacances d'{stored}")
    alice.create("Something else")
    assert found(alice, searched) == [f"Vacances d'{stored}"]


def test_q_finds_nothing_when_nothing_matches(alice: User) -> None:
    alice.create("Buy milk")
    assert listing(alice, q="bread") == {"items": [], "total": 0, "limit": 20, "offset": 0, "next_cursor": None}


@pytest.mark.parametrize("special", TRICKY_TITLES)
def test_wildcards_escapes_and_quotes_are_matched_literally(alice: User, special: str) -> None:
    for title in [*TRICKY_TITLES.values(), *PLAIN_TITLES]:
        alice.create(title)
    expected = sorted(title for title in TRICKY_TITLES.values() if special in title)
    assert found(alice, special) == expected


@pytest.mark.parametrize(
    "q",
    ["%", "_", "\\", "'; DROP TABLE tasks; --", "' OR '1'='1", "%' OR 1=1 --", "\\'", "[a-z]*", "$1", ".*"],
)
def test_input_that_looks_like_a_pattern_or_sql_matches_only_itself(alice: User, q: str) -> None:
    alice.create("An ordinary task")  # what a wildcard, a regular expression or injected SQL would find too
    alice.create(f"It says {q} in so many words")
    assert found(alice, q) == [f"It says {q} in so many words"]
    assert listing(alice)["total"] == 2, "the table is intact"


def test_q_combines_with_the_other_filters_and_sorts(alice: User) -> None:
    alice.create("milk for home", tags=["home"], priority="low")
    alice.create("milk for work", tags=["work"], priority="high")
    done = alice.create("milk yesterday", tags=["home"], priority="high")
    alice.create("bread for home", tags=["home"])
    alice.request("PATCH", alice.task_path(done["id"]), json={"completed": True})
    assert found(alice, "milk", tag="home") == ["milk for home", "milk yesterday"]
    assert found(alice, "milk", tag="home", status="pending") == ["milk for home"]
    by_priority = listing(alice, q="MILK", sort="priority", order="desc")
    assert [task["title"] for task in by_priority["items"]] == ["milk yesterday", "milk for work", "milk for home"]
    second_page = listing(alice, q="milk", sort="title", order="asc", limit=2, offset=2)
    assert ([task["title"] for task in second_page["items"]], second_page["total"]) == (["milk yesterday"], 3)


def test_q_never_finds_another_users_tasks(alice: User, bob: User) -> None:
    bob.create("milk, Bob's")
    alice.create("milk, Alice's")
    assert found(alice, "milk") == ["milk, Alice's"]


@pytest.mark.parametrize("q", ["", "x" * 201, "nul\u0000byte"])
def test_q_outside_the_contract_is_422(alice: User, q: str) -> None:
    assert_invalid(alice.request("GET", alice.tasks_path, params={"q": q}), parameter="q")
