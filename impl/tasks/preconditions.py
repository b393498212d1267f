"""What a conditional write asks of the task's version: the version sets its statement checks (decision 0005).

The endpoint reads them from If-Match and If-None-Match (impl/http/entity_tags.py); the service runs
the write under them and says which condition refused it.
"""

from __future__ import annotations

from dataclasses import dataclass

from impl.http.problems import PreconditionFailed


@dataclass(frozen=True)
class Preconditions:
    """What a write's If-Match and If-None-Match ask of the task's current version (RFC 9110 section 13.1).

    `matching`: the versions If-Match accepts, None for any. `excluded`: the versions If-None-Match
    refuses (compared weakly), None for none. `excludes_every_version`: If-None-Match is `*` (or lists
    it), so no task that exists may be changed.
    """

    matching: list[int] | None = None
    excluded: list[int] | None = None
    excludes_every_version: bool = False

    def hold_for(self, version: int) -> bool:
        return (
            (self.matching is None or version in self.matching)
            and not self.excludes_every_version
            and (self.excluded is None or version not in self.excluded)
        )

    def failed(self, task_id: int, version: int) -> PreconditionFailed:
        """The 412 for a task found at `version` after its write matched nothing, naming the header that refused it.

        With both headers, If-Match is evaluated first (RFC 9110 section 13.2.2). With one, it is that one:
        the version read may already be a later writer's.
        """
        if_none_match = self.excludes_every_version or self.excluded is not None
        if self.matching is not None and (not if_none_match or version not in self.matching):
            return PreconditionFailed(f"Task {task_id} has changed since the version in If-Match; fetch it and retry.")
        return PreconditionFailed(f"Task {task_id} exists at a version If-None-Match names; nothing changed.")
