"""The hot statements of the message write path, run on the DB-API cursor.

A SQLAlchemy Core execution costs 30-60 µs of Python around a SQLite statement that itself
takes a few (execution context, parameter processing, result proxy); a customer message runs
about ten. A ``Hot`` statement is still written as Core, compiled once per dialect (qmark for
SQLite, pyformat for psycopg) with SQLAlchemy's own type processors for its parameters and
result columns, then executed on the raw cursor of the connection's transaction: the same
SQL and the same values as Core would send, without the machinery in between.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError, NoResultFound
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter

Processor = Callable[[Any], Any]
T = TypeVar("T")


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters, in order for a positional paramstyle
    positional: bool  # qmark (SQLite) or named (pyformat: psycopg)
    defaults: Mapping[str, Any]  # literal values the statement carries (e.g. ``count + 1``)
    bind_processors: tuple[tuple[int, Processor], ...]  # (position in ``names``, processor)
    row_type: Any  # namedtuple of the result columns, or None
    result_processors: tuple[tuple[int, Processor], ...]  # (column position, processor)


class Hot:
    """A Core statement compiled once per dialect and run on the DB-API cursor."""

    def __init__(self, statement: ClauseElement, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._by_dialect: dict[str, _Compiled] = {}
        self._last: tuple[Dialect, _Compiled] | None = None
        _DEFINED.append(self)

    def _compiled(self, dialect: Dialect) -> _Compiled:
        last = self._last  # a server runs one engine: its dialect, statement after statement
        if last is not None and last[0] is dialect:
            return last[1]
        key = _dialect_key(dialect)
        found = self._by_dialect.get(key)
        if found is None:
            found = self._by_dialect[key] = self._compile(dialect)
        self._last = (dialect, found)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = cast(
            SQLCompiler, self.statement.compile(dialect=dialect, column_keys=self.column_keys)
        )
        processors = {name: _bind_processor(b, dialect) for b, name in compiled.bind_names.items()}
        positional = compiled.positiontup is not None
        names = tuple(compiled.positiontup or dict.fromkeys(compiled.bind_names.values()))
        columns = list(getattr(self.statement, "selected_columns", None) or ())
        if not columns:  # INSERT/UPDATE ... RETURNING
            columns = list(getattr(compiled, "returning", None) or ())
        row_type = namedtuple("HotRow", [c.key for c in columns]) if columns else None
        results = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        binds = [processors.get(name) for name in names]
        return _Compiled(
            sql=compiled.string,
            names=names,
            positional=positional,
            defaults={  # a parameter without a literal value must be given, also for a column
                name: b.value  # default: its Python-side default is not applied here
                for b, name in compiled.bind_names.items()
                if not b.required and b.value is not None
            },
            bind_processors=_with_processor(binds),
            row_type=row_type,
            result_processors=_with_processor(results),
        )

    def _parameters(self, compiled: _Compiled, params: Mapping[str, Any]) -> Any:
        defaults = compiled.defaults
        if defaults:
            values = [params[n] if n in params else defaults[n] for n in compiled.names]
        else:  # the common case, also per row of an executemany
            values = [params[n] for n in compiled.names]
        for position, processor in compiled.bind_processors:
            values[position] = processor(values[position])
        if compiled.positional:
            return tuple(values)
        return dict(zip(compiled.names, values, strict=True))  # only its own, as Core sends

    def _row(self, compiled: _Compiled, raw: Sequence[Any] | None) -> Any:
        if raw is None or compiled.row_type is None:
            return raw
        if not compiled.result_processors:
            return compiled.row_type._make(raw)
        values = list(raw)
        for position, processor in compiled.result_processors:
            values[position] = processor(values[position])
        return compiled.row_type._make(values)

    def _execute(
        self,
        conn: Connection,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        fetch: Callable[[_Compiled, Any], T],
        *,
        many: bool = False,
    ) -> T:
        compiled = self._compiled(conn.dialect)
        cursor = dbapi_connection(conn).cursor()
        try:
            if many:
                rows = [self._parameters(compiled, r) for r in params]  # type: ignore[arg-type]
                cursor.executemany(compiled.sql, rows)
            else:
                cursor.execute(compiled.sql, self._parameters(compiled, params))  # type: ignore[arg-type]
            return fetch(compiled, cursor)
        except conn.dialect.loaded_dbapi.Error as exc:
            # the exceptions Core would raise (callers catch sqlalchemy.exc.IntegrityError)
            raise DBAPIError.instance(
                compiled.sql, params, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
            ) from exc
        finally:
            cursor.close()

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first row (a namedtuple with the selected columns' names), or None."""
        return self._execute(conn, params or {}, lambda c, cur: self._row(c, cur.fetchone()))

    def one(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        row = self.first(conn, params)
        if row is None:
            raise NoResultFound("no row where one was required")
        return row

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        return self._execute(
            conn, params or {}, lambda c, cur: [self._row(c, raw) for raw in cur.fetchall()]
        )

    def scalar(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        row = self.first(conn, params)
        return None if row is None else row[0]

    def scalars(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        return [row[0] for row in self.all(conn, params)]

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> None:
        self._execute(conn, params or {}, _nothing)

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """executemany: one statement for many parameter sets (no result)."""
        self._execute(conn, rows, _nothing, many=True)


def dbapi_connection(conn: Connection) -> Any:
    """The Core connection's own DB-API connection: the same transaction as its statements."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    return raw


_DEFINED: list[Hot] = []  # every hot statement (module constants): compile_all


def compile_all(dialect: Dialect) -> None:
    """Compile every hot statement for ``dialect`` now, when the backend starts: compiled at
    first use, they cost the first customer message after a start ~11 ms in the writer."""
    for hot in _DEFINED:
        hot._compiled(dialect)


def not_compiled(dialect: Dialect) -> list[Hot]:
    """The hot statements ``dialect`` has no compiled form of yet (none after compile_all)."""
    key = _dialect_key(dialect)
    return [hot for hot in _DEFINED if key not in hot._by_dialect]


def defined_count() -> int:
    return len(_DEFINED)


def _dialect_key(dialect: Dialect) -> str:
    return f"{dialect.name}+{dialect.driver}"


def _nothing(_compiled: _Compiled, _cursor: Any) -> None:
    return None


def _with_processor(processors: Sequence[Processor | None]) -> tuple[tuple[int, Processor], ...]:
    """The positions that have a processor: the others pass as they are."""
    return tuple((i, p) for i, p in enumerate(processors) if p is not None)


def _bind_processor(bind: BindParameter[Any], dialect: Dialect) -> Processor | None:
    processor: Processor | None = bind.type.dialect_impl(dialect).bind_processor(dialect)
    return processor
