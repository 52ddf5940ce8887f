"""The one storage interface both backends implement (SQLite and PostgreSQL).

Repositories write their SQL once, in the common subset of both dialects, with SQLite's
placeholders (`?` or `:name`); the PostgreSQL backend rewrites the placeholders to `$n`
(see `storage.pg.to_numbered`). What differs for real sits behind the backend: how a
transaction starts, how the schema version is kept, column types of the DDL, and the
driver's error types, which both backends turn into `ConstraintViolation`.

Portable SQL rules: a parameter whose type the statement cannot infer gets a
`CAST(:p AS …)`; no SQLite-only functions (TOTAL, zeroblob, PRAGMA) outside storage/db.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from storage.errors import StorageError

Params = Sequence[object] | Mapping[str, object]


class Row(Protocol):
    """A result row: by column name or position (aiosqlite.Row, asyncpg.Record)."""

    def __getitem__(self, key: str | int, /) -> Any:  # a column holds any SQL type
        """The value of one column."""


class Statements(ABC):
    """Reads and writes of one statement each; subclasses say how a statement is run."""

    @abstractmethod
    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Run `sql` to completion and return every row (RETURNING rows included)."""

    @abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """Run `sql` to completion and return its first row, if any."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_returning(self, sql: str, params: Params = ()) -> Row:
        """Run a write with RETURNING that must yield a row (an INSERT, an upsert)."""
        row = await self.fetch_one(sql, params)
        if row is None:
            raise StorageError("statement returned no row")
        return row


class Transaction(Statements):
    """Statements inside one open transaction on one connection."""

    @abstractmethod
    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        """Run one statement once per parameter set."""


class Backend(Statements):
    """A database: single autocommit statements, transactions, and what `check` shows."""

    name: str
    # Appended to a SELECT that picks rows to claim: PostgreSQL skips the rows another
    # transaction is claiming; SQLite has one writer at a time and needs nothing.
    claim_lock: str = ""
    # Whether other processes may use this database right now. SQLite: no, one process owns
    # DATA_DIR (bot/instance_lock.py); so at start whatever was in flight was its own.
    shared: bool = False

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A transaction that commits on exit and rolls back on any exception; it holds the
        write lock (SQLite) or the row locks it takes (PostgreSQL) until it ends."""

    async def fetch_serializable(self, sql: str, params: Params = ()) -> list[Row]:
        """One statement whose reads and write act as one step against every other writer
        (a quota check and its hold). SQLite runs one writer at a time, so any statement is."""
        return await self.fetch_all(sql, params)

    @asynccontextmanager
    async def turn(self, key: int, *, wait: float) -> AsyncIterator[None]:
        """Held by one process at a time among those sharing this database, for as long as the
        block runs (waiting up to `wait` seconds for it). SQLite has one process: always free."""
        yield

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, for `check` and the log; never a password."""

    @abstractmethod
    async def close(self) -> None:
        """Release the connection(s)."""
