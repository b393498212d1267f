"""How long an Idempotency-Key stands for its first answer, and that answer given again to a retry."""

from __future__ import annotations

from typing import NamedTuple

from generated.models import Task
from impl.http.problems import IdempotencyKeyQuotaReached, UnprocessableParameter
from impl.idempotency.repository import EarlierRequest
from impl.tasks.bodies import FIELDS_SINCE_1_2

IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 3600


def key_quota_reached(max_keys: int) -> IdempotencyKeyQuotaReached:
    hours = IDEMPOTENCY_KEY_TTL_SECONDS // 3600
    return IdempotencyKeyQuotaReached(
        f"You hold {max_keys} Idempotency-Keys used in the last {hours} hours, the most one user may hold."
        f" A key is released {hours} hours after its first use; until then, create without a key"
        " or retry with a key you already used for the same request.",
        extensions={"limit": max_keys},
    )


class Replayed(NamedTuple):
    """The first answer a create with this Idempotency-Key was given: its task, and its headers as stored
    (`Location` and `ETag`, decision 0006), which the endpoint answers again."""

    task: Task
    headers: dict[str, str]


def replay(earlier: EarlierRequest, fingerprint: str) -> Replayed:
    """The first answer given for this Idempotency-Key, when the retry carries the same request."""
    request_hash, stored = earlier
    if request_hash != fingerprint or stored is None:
        raise UnprocessableParameter(
            "This Idempotency-Key was already used with a different request body.",
            parameter="Idempotency-Key",
            message="Already used with a different request body",
        )
    # Answers stored before 1.2.0 lack the newer fields; the task had their defaults then.
    task = Task.model_validate({**FIELDS_SINCE_1_2, **stored["task"]}, strict=False)
    return Replayed(task, stored["headers"])
