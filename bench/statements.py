"""The service's own SQL for the two limits: the compiled statements impl.tasks.repository runs.

Each is an impl.db.sql.Query: its SQL exactly as asyncpg receives it (`$1::VARCHAR` and all) and the name
bound at each `$n`. The limits bind the same names with the same values the service would; what a
statement carries itself (the 1 of `version + 1`) is in its constants. Nothing here writes or edits a
query: when repository.py changes, the limits change with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from impl.db.sql import Query
from impl.settings import Settings
from impl.tasks import repository
from impl.tasks.bodies import FIELDS_SINCE_1_2
from impl.tasks.listing.query import Direction, SortKey, StatusFilter

STATUSES: tuple[str, ...] = get_args(StatusFilter)
SORTS: tuple[str, ...] = get_args(SortKey)
ORDERS: tuple[str, ...] = get_args(Direction)
# What a create that gives only a title and a description binds besides them: the defaults the service
# fills in, and its default task quota.
CREATE_DEFAULTS: dict[str, Any] = {
    **FIELDS_SINCE_1_2,
    "max_tasks": Settings.model_fields["max_tasks_per_user"].default,
}


@dataclass(frozen=True)
class ServiceSql:
    """The statement a request of each operation runs besides the list (a user's first create also
    writes the user row, in the same statement)."""

    get: Query
    insert: Query
    update_title: Query
    toggle: Query
    delete: Query


def service_sql() -> ServiceSql:
    return ServiceSql(
        get=repository.GET_TASK,
        insert=repository.INSERT_TASK,
        update_title=repository.update_query(("title",)),
        toggle=repository.update_query(toggle=True),
        delete=repository.DELETE_TASK[False],
    )
