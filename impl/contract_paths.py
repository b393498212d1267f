"""Which spec path template a request path falls under, and what the spec allows there."""

from __future__ import annotations

import re

from generated.api import ALLOWED_METHODS, REQUEST_BODY_MEDIA_TYPES

TEMPLATES = [
    (re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"), template)
    for template in ALLOWED_METHODS
]


def path_template(path: str) -> str | None:
    for pattern, template in TEMPLATES:
        if pattern.match(path):
            return template
    return None


def allowed_methods(path: str) -> str:
    """The spec's methods at this path (Starlette's own Allow names only the first matching route's)."""
    template = path_template(path)
    return ", ".join(ALLOWED_METHODS[template]) if template else "GET"


def body_media_types(method: str, path: str) -> tuple[str, ...] | None:
    """The media types the operation's request body may have; None when it takes no body."""
    template = path_template(path)
    return REQUEST_BODY_MEDIA_TYPES.get((method, template)) if template else None
