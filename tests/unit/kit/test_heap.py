"""What the service's start-up does to the garbage collector (decisions 0022 and 0061)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from impl.kit.heap import YOUNG_COLLECTION_THRESHOLD, freeze_startup_heap


@pytest.fixture
def collections_started() -> Iterator[list[int]]:
    """The generations collected while the test runs, after the start-up heap is frozen; gc restored after."""
    threshold = gc.get_threshold()
    collected: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected.append(info["generation"])

    freeze_startup_heap()
    gc.callbacks.append(note)
    yield collected
    gc.callbacks.remove(note)
    gc.set_threshold(*threshold)
    gc.unfreeze()


def test_what_survived_start_up_is_never_traversed_again(collections_started: list[int]) -> None:
    assert gc.get_count()[0] < 100  # collected just now
    assert gc.get_freeze_count() > 10_000  # this test process's modules, among them


def hold_what_requests_in_flight_hold() -> list[list[dict[str, object]]]:
    """A hundred list requests' pages at once: 20 rows each, a dict and its tags (4,100 containers)."""
    return [[{"id": n, "tags": ["work"]} for n in range(20)] for _ in range(100)]


def test_objects_held_by_requests_in_flight_start_no_collection(collections_started: list[int]) -> None:
    held = hold_what_requests_in_flight_hold()
    assert collections_started == []
    del held


def test_at_pythons_default_the_same_objects_start_several(collections_started: list[int]) -> None:
    gc.set_threshold(700, 10, 10)
    held = hold_what_requests_in_flight_hold()
    assert collections_started.count(0) >= 5
    del held


def test_cycles_are_still_collected_once_enough_is_allocated(collections_started: list[int]) -> None:
    held = [[] for _ in range(YOUNG_COLLECTION_THRESHOLD + 1)]
    assert collections_started == [0]
    del held


def test_the_older_generations_keep_pythons_thresholds(collections_started: list[int]) -> None:
    assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, 10, 10)
