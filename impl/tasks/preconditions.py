"""Entity tags for tasks, and If-Match evaluated the way RFC 9110 says (strong comparison)."""

from __future__ import annotations

import re

from impl.problems import PreconditionFailed

ENTITY_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')
# Exactly the spellings etag() issues: ASCII decimal without leading zeros, within the version column.
# Strong comparison is character by character, so "01" is not "1"; and str.isdigit() would accept
# "¹", which int() then refuses.
ISSUED_VERSION = re.compile(r"[1-9][0-9]{0,9}")
MAX_VERSION = 2**31 - 1


def etag(version: int) -> str:
    return f'"{version}"'


def versions_matching(if_match: str | None) -> list[int] | None:
    """The task versions an If-Match header accepts; None when it accepts any (absent, or `*`).

    Weak tags never match (If-Match compares strongly), nor do tags this service never issued;
    a header naming no version of ours can match nothing, so the change is refused.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    versions = []
    for entry in if_match.split(","):
        match = ENTITY_TAG.fullmatch(entry)
        if match and not match.group(1) and ISSUED_VERSION.fullmatch(match.group(2)):
            versions.append(int(match.group(2)))
    return [version for version in versions if version <= MAX_VERSION]


def stale(task_id: int) -> PreconditionFailed:
    return PreconditionFailed(f"Task {task_id} has changed since the version in If-Match; fetch it and retry.")
