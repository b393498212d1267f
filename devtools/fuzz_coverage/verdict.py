"""The gate: what a run must have covered of the contract, unless the allow-list says why not."""

from __future__ import annotations

from dataclasses import dataclass, field

from devtools.fuzz_coverage.allowlist import AllowList
from devtools.fuzz_coverage.tally import Tally

# Calls in one stateful scenario: long enough for create, a change or two with each answer's ETag,
# a delete and the read that must then be 404.
MIN_SEQUENCE = 5


@dataclass
class Verdict:
    missing_responses: list[str] = field(default_factory=list)
    unfollowed_links: list[str] = field(default_factory=list)
    short_sequences: str | None = None
    # Allow-listed, yet the run produced or followed it: the entry may be stale (not a failure).
    allowed_but_reached: list[str] = field(default_factory=list)

    @property
    def wants_more_stateful(self) -> bool:
        """Whether only what the stateful phase does (follow links, make long sequences) is missing."""
        return not self.missing_responses and bool(self.unfollowed_links or self.short_sequences)

    @property
    def passed(self) -> bool:
        return not (self.missing_responses or self.unfollowed_links or self.short_sequences)

    def failures(self) -> list[str]:
        found = [f"{item}: documented, never produced" for item in self.missing_responses]
        found += [f"link {item}: never followed" for item in self.unfollowed_links]
        return found + ([self.short_sequences] if self.short_sequences else [])


def judge(tally: Tally, allowed: AllowList) -> Verdict:
    verdict = Verdict()
    followed: dict[str, int] = {}
    for operation_id, counts in tally.operations.items():
        for status in counts.operation.statuses:
            produced = counts.statuses[status] > 0
            name = f"{operation_id} {status}"
            if (operation_id, status) in allowed.responses:
                if produced:
                    verdict.allowed_but_reached.append(name)
            elif not produced:
                verdict.missing_responses.append(name)
        for link in counts.operation.links:
            times = counts.links_followed[(link.status, link.name)]
            followed[link.definition] = followed.get(link.definition, 0) + times
    for definition, count in followed.items():
        if definition in allowed.links:
            if count:
                verdict.allowed_but_reached.append(f"link {definition}")
        elif not count:
            verdict.unfollowed_links.append(definition)
    longest = tally.sequences.longest_scenario
    if longest < MIN_SEQUENCE:
        verdict.short_sequences = f"the longest stateful scenario made {longest} calls; at least {MIN_SEQUENCE} needed"
    return verdict
