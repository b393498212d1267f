"""Keeping the garbage collector's work small: full collections short, young collections rare.

A worker holds a few hundred thousand long-lived objects after start-up (modules, FastAPI's routes,
pydantic and SQLAlchemy schemas). Every full (generation 2) collection traversed all of them: 70-105
ms with the event loop stopped, several times a minute under write load, which was the service's p99
(decision 0022). Frozen after start-up, they are never traversed again; a full collection then takes
5-8 ms.

A young (generation 0) collection starts whenever 700 more container objects were allocated than
freed, Python's default. A hundred requests in flight each hold a few hundred (a page's models, dicts,
lists), so their allocations alone crossed that mark about 70 times a second per worker: collections
that walked the in-flight requests' objects and freed nothing, 6% of a worker's CPU under load
(decision 0061). The request's own objects go back by reference counting; what the collector is for,
cycles, is collected as before, only in batches of YOUNG_COLLECTION_THRESHOLD.
"""

from __future__ import annotations

import gc

YOUNG_COLLECTION_THRESHOLD = 10_000


def freeze_startup_heap() -> None:
    """Collect once, move every surviving object to the permanent generation, and start a young
    collection only after YOUNG_COLLECTION_THRESHOLD more allocations than frees (the older
    generations' thresholds stay Python's)."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, oldest)
