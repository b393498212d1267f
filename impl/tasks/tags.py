"""The tag rules: tags ignore case, so they are kept in lower case, and a task carries each tag once."""

from __future__ import annotations

from collections.abc import Sequence

from impl.problems import UnprocessableContent


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
