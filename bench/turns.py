"""The order the targets of one workload and shape run in, and how long each run lasts.

Two targets whose ratio is a verdict take turns in rounds (A B B A ...), so that a machine that speeds
up or slows down during the runs weighs on both alike, and their rounds are combined
(bench/loadgen.combined): the service and its --baseline, each round the full duration; or, without
a baseline, the service and the bare app in issue 22's runs (saturation list and mixed), whose rounds
share the run's duration so that `make bench` takes no longer: in whole seconds (wrk's -d), the first
rounds a second longer when it does not divide (7 s in 2 rounds: 4 s, then 3 s, for each of the two).
Every other target runs once, after.
"""

from __future__ import annotations

from typing import NamedTuple

# Issue 22's throughput and tail targets are ratios of the service to the bare app in these runs.
SHARED_WITH_BARE = frozenset({("saturation", "list"), ("saturation", "mixed")})


class Turn(NamedTuple):
    target: str
    seconds: float


def turns(targets: list[str], *, shape: str, workload: str, rounds: int, seconds: float) -> list[Turn]:
    """The runs of one workload and shape, in order."""
    if "baseline" in targets:
        pair, lengths = ("service", "baseline"), [seconds] * rounds
    elif (shape, workload) in SHARED_WITH_BARE and {"service", "bare"} <= set(targets):
        pair, lengths = ("service", "bare"), shared(seconds, rounds)
    else:
        return [Turn(target, seconds) for target in targets]
    alternating = [
        Turn(target, length)
        for turn, length in enumerate(lengths)
        for target in (pair if turn % 2 == 0 else pair[::-1])
    ]
    return alternating + [Turn(target, seconds) for target in targets if target not in pair]


def shared(seconds: float, rounds: int) -> list[float]:
    """`seconds` in `rounds` whole seconds, the longer first, at least 1 each."""
    whole = max(int(seconds), rounds)
    return [float(whole // rounds + (1 if turn < whole % rounds else 0)) for turn in range(rounds)]
