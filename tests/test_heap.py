"""Full garbage collections skip the start-up heap, so they stay short under load (decision 0022)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from impl.heap import freeze_startup_heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def in_oldest_generation(target: object) -> bool:
    return any(candidate is target for candidate in gc.get_objects(generation=2))


def test_after_freezing_a_full_collection_no_longer_walks_the_startup_heap(unfrozen: None) -> None:
    startup_heap = [[n] for n in range(10_000)]  # long-lived objects, like a worker's modules and schemas
    gc.collect()
    assert in_oldest_generation(startup_heap[0])
    freeze_startup_heap()
    assert gc.get_freeze_count() >= len(startup_heap)
    assert not in_oldest_generation(startup_heap[0])
    made_later = [0]
    gc.collect()
    assert in_oldest_generation(made_later)
