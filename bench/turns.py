"""The order the targets of one workload and shape run in, and how long each run lasts.

Two targets whose ratio is a verdict take turns in rounds (A B B A ...), so that a machine that speeds
up or slows down during the runs weighs on both alike, and their rounds are combined
(bench/loadgen.combined): the service and its --baseline, each round the full duration; or, without
a baseline, the service and the bare app in issue 22's runs (saturation list and mixed), whose rounds
share the run's duration so that `make bench` takes no longer. Every other target runs once, after.
"""

from __future__ import annotations

import math
from typing import NamedTuple

# Issue 22's throughput and tail targets are ratios of the service to the bare app in these runs.
SHARED_WITH_BARE = frozenset({("saturation", "list"), ("saturation", "mixed")})


class Turn(NamedTuple):
    target: str
    seconds: float


def turns(targets: list[str], *, shape: str, workload: str, rounds: int, seconds: float) -> list[Turn]:
    """The runs of one workload and shape, in order."""
    if "baseline" in targets:
        pair, each = ("service", "baseline"), seconds
    elif (shape, workload) in SHARED_WITH_BARE and {"service", "bare"} <= set(targets):
        pair, each = ("service", "bare"), float(math.ceil(seconds / rounds))  # wrk's -d takes whole seconds
    else:
        return [Turn(target, seconds) for target in targets]
    alternating = [target for turn in range(rounds) for target in (pair if turn % 2 == 0 else pair[::-1])]
    return [Turn(target, each) for target in alternating] + [
        Turn(target, seconds) for target in targets if target not in pair
    ]
