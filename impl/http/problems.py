"""Errors as RFC 9457 problem documents: the exceptions the implementation raises, and their rendering."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from generated.models import Problem, QuotaProblem, ValidationProblem
from impl.telemetry.logs import request_id

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """An error that answers the request with a problem document."""

    status: int = 500
    # A problem type of its own, when the status alone does not say what happened (decision 0027).
    type: str = "about:blank"
    title: str | None = None  # with a type of its own; about:blank's title is the status's name

    def __init__(
        self, detail: str, *, headers: Mapping[str, str] | None = None, extensions: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})


class Unauthorized(ProblemError):
    status = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


class MissingCredentials(ProblemError):
    status = 401

    def __init__(self, detail: str = "A bearer token is required.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ProblemError):
    status = 403


class NotFound(ProblemError):
    status = 404


class PreconditionFailed(ProblemError):
    status = 412


class UnprocessableParameter(ProblemError):
    """A 422 about one parameter, in the same shape as the framework's validation problems."""

    status = 422

    def __init__(self, detail: str, *, parameter: str, message: str) -> None:
        super().__init__(detail, extensions={"errors": [{"parameter": parameter, "message": message}]})


class UnprocessableContent(ProblemError):
    """A 422 about one part of the body (a JSON pointer), in the same shape as the framework's validation problems."""

    status = 422

    def __init__(self, detail: str, *, pointer: str, message: str) -> None:
        super().__init__(detail, extensions={"errors": [{"pointer": pointer, "message": message}]})


class QuotaReached(ProblemError):
    """A 409: the user holds the most of something that one user may hold; nothing was written."""

    status = 409


class TaskQuotaReached(QuotaReached):
    type = "tag:tasks-api,2026:task-quota-reached"
    title = "Task quota reached"


class IdempotencyKeyQuotaReached(QuotaReached):
    type = "tag:tasks-api,2026:idempotency-key-quota-reached"
    title = "Idempotency-Key quota reached"


class RefusedRequest(ProblemError):
    """A request refused before it is routed; the connection closes after the answer, so nothing more of it is read."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Connection": "close"})


class AmbiguousRequest(RefusedRequest):
    """RFC 9112 section 3.2's 400: no Host, or two; or two of a field the service reads once."""

    status = 400


class ContentTooLarge(RefusedRequest):
    status = 413


class UriTooLong(RefusedRequest):
    status = 414


class UnsupportedMediaType(RefusedRequest):
    status = 415


class HeaderFieldsTooLarge(RefusedRequest):
    status = 431


class UnsupportedTransferCoding(RefusedRequest):
    """RFC 9112 section 6.1's answer to a transfer coding the server does not decode (all but chunked here)."""

    status = 501


class ServiceUnavailable(ProblemError):
    status = 503

    def __init__(self, detail: str, *, retry_after_seconds: int = 1) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_seconds)})


# RFC 9110's names where Python's http module still has the older ones.
TITLES = {413: "Content Too Large", 414: "URI Too Long", 422: "Unprocessable Content"}


# The contract's schema for a problem with each extension member; any other member is a bug, not an answer.
EXTENDED_PROBLEMS: dict[str, type[Problem]] = {"errors": ValidationProblem, "limit": QuotaProblem}


def problem(
    status: int,
    detail: str,
    *,
    instance: str | None,
    problem_type: str = "about:blank",
    title: str | None = None,
    **extensions: Any,
) -> Problem:
    """The problem document, checked against the contract's schema for it.

    Without `instance` when there is none worth repeating (such as an over-long URI).
    """
    document = next((EXTENDED_PROBLEMS[name] for name in extensions if name in EXTENDED_PROBLEMS), Problem)
    members = {
        "type": problem_type,
        "title": title or TITLES.get(status) or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **({"instance": instance} if instance is not None else {}),
        **({"request_id": rid} if (rid := request_id.get()) else {}),
        **extensions,
    }
    return document.model_validate(members, extra="forbid")


def problem_json(document: Problem) -> bytes:
    """The document as sent: compact JSON, its members in the contract's order."""
    return document.model_dump_json().encode()
