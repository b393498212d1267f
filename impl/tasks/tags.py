"""The tag rules: tags ignore case, so they are kept in lower case, and a task carries each tag once."""

from __future__ import annotations

from collections.abc import Sequence

from impl.http.problems import UnprocessableContent
from impl.tasks.listing.cursors import SortKeyType

TAG_LENGTH = 30  # the spec's maxLength for a tag as given
# str.lower() makes at most two characters of one (İ becomes i̇), so a stored tag is at most twice as long.
STORED_TAG_LENGTH = 2 * TAG_LENGTH
# What a tag-list cursor's position may hold: a tag as it could be stored.
TAG_KEY_TYPE = SortKeyType(max_length=STORED_TAG_LENGTH)


def tag_key(tag: str) -> str:
    """The one spelling a tag is stored, filtered and counted under."""
    return tag.lower()


def task_tags(tags: Sequence[str]) -> list[str]:
    """A task's tags as stored, in the order given; 422 when two are the same tag (ignoring case)."""
    keys: list[str] = []
    for index, tag in enumerate(tags):
        key = tag_key(tag)
        if key in keys:
            raise UnprocessableContent(
                f"The tag {tag!r} is given twice (tags ignore case).",
                pointer=f"/tags/{index}",
                message=f"Duplicate of tag {keys.index(key)} (tags ignore case)",
            )
        keys.append(key)
    return keys
