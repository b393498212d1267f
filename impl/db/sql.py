"""SQL as the service sends it: SQLAlchemy Core statements compiled once, executed on asyncpg.

Statements are built from the SQLModel tables with named bind parameters and compiled with the
asyncpg dialect when first used; a request only looks its statement up and passes the values in
the order asyncpg expects (`$1, $2, ...`). SQLAlchemy's own execution layer (greenlet hops,
result adaptation, per-call compilation cache lookups) cost more CPU per request than the query
itself (decision 0013). With tracing on, each statement is a client span of its own (decision 0036).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from asyncpg import Record
from opentelemetry.trace import SpanKind, Tracer
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


class Connection(Protocol):
    """What queries need of a connection: asyncpg's Connection (or a pool's proxy for one)."""

    async def fetch(self, query: str, *args: Any) -> list[Record]: ...

    async def fetchrow(self, query: str, *args: Any) -> Record | None: ...


@dataclass
class StatementTracing:
    """Where statements' spans go: a tracer while tracing is on (impl.app sets it per process), else None."""

    tracer: Tracer | None = None


statement_tracing = StatementTracing()


def operation_of(statement: ClauseElement) -> str:
    for verb in ("select", "insert", "update", "delete"):
        if getattr(statement, f"is_{verb}", False):
            return verb.upper()
    raise ValueError(f"not a SELECT, INSERT, UPDATE or DELETE: {type(statement).__name__}")


@dataclass(frozen=True)
class Query:
    """One compiled statement: its SQL and, per positional parameter, its bind name."""

    sql: str
    names: tuple[str, ...]
    constants: Mapping[str, Any]  # values the statement itself carries, such as the 1 of `version + 1`
    # The outermost statement's verb (a span's name): SELECT for `WITH ... SELECT`, whatever its CTEs write.
    operation: str

    @classmethod
    def of(cls, statement: ClauseElement) -> Query:
        compiled = statement.compile(dialect=DIALECT)
        assert isinstance(compiled, SQLCompiler)
        names = tuple(compiled.positiontup or ())
        values = compiled.params  # a required bind parameter's value is None here
        constants = {name: values[name] for name in names if values.get(name) is not None}
        return cls(compiled.string, names, constants, operation_of(statement))

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        return [values[name] if name in values else self.constants[name] for name in self.names]

    async def all(self, conn: Connection, **values: Any) -> Sequence[Record]:
        if (tracer := statement_tracing.tracer) is None:
            return await conn.fetch(self.sql, *self.arguments(values))
        with tracer.start_as_current_span(self.operation, kind=SpanKind.CLIENT, attributes=self.span_attributes()):
            return await conn.fetch(self.sql, *self.arguments(values))

    async def one_or_none(self, conn: Connection, **values: Any) -> Record | None:
        if (tracer := statement_tracing.tracer) is None:
            return await conn.fetchrow(self.sql, *self.arguments(values))
        with tracer.start_as_current_span(self.operation, kind=SpanKind.CLIENT, attributes=self.span_attributes()):
            return await conn.fetchrow(self.sql, *self.arguments(values))

    def span_attributes(self) -> dict[str, str]:
        # The statement's text has only placeholders: the values bound never reach a span.
        return {"db.system.name": "postgresql", "db.operation.name": self.operation, "db.query.text": self.sql}
