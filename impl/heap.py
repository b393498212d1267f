"""Keeping the garbage collector's full collections short.

A worker holds a few hundred thousand long-lived objects after start-up (modules, FastAPI's routes,
pydantic and SQLAlchemy schemas). Every full (generation 2) collection traversed all of them: 70-105
ms with the event loop stopped, several times a minute under write load, which was the service's p99
(decision 0022). Frozen after start-up, they are never traversed again; a full collection then takes
5-8 ms.

Young collections are the other cost. At the default threshold (one every 700 net allocations) a worker
under load ran one every few requests, each walking whatever the requests in flight held at that moment
and promoting it to be walked again: 5-10% of a worker's CPU. Collected every 10,000 allocations, most of a
request's objects are already freed by their reference counts when a collection comes (decision 0053).
"""

from __future__ import annotations

import gc

# Allocations (net of frees) between young collections; the default is 700. Generations 1 and 2 keep theirs.
YOUNG_COLLECTION_THRESHOLD = 10_000


def freeze_startup_heap() -> None:
    """Collect once, move every surviving object to the permanent generation, and collect the young less often."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, older, oldest)
