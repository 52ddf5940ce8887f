"""The SQLite backend: one connection through aiosqlite, pragmas, migrations, serialised access."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import aiosqlite

from storage.errors import ConstraintViolation, StorageError
from storage.migrations import migrate
from storage.sql import Backend, Params, Row, Transaction

log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT_MS = 5_000
# RETURNING (3.35) lets every write hand back its row in the same atomic statement.
MIN_SQLITE = (3, 35, 0)


@contextmanager
def _constraints() -> Iterator[None]:
    """sqlite3.IntegrityError → ConstraintViolation, the error both backends raise."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        text = str(exc)
        kind = "unique" if "UNIQUE" in text else "foreign_key" if "FOREIGN KEY" in text else "other"
        raise ConstraintViolation(kind, text) from exc


class Session(Transaction):
    """Statements on one connection; whoever holds a Session holds the connection's lock."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        with _constraints():
            return list(await self._conn.execute_fetchall(sql, params))

    async def execute(self, sql: str, params: Params = ()) -> int:
        with _constraints():
            async with self._conn.execute(sql, params) as cursor:
                return cursor.rowcount

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        with _constraints():
            await self._conn.executemany(sql, rows)


class Database(Backend):
    """The shared connection. aiosqlite queues each statement the moment it is called and runs
    the queue in order on one thread, so single statements take no lock and pipeline. Only a
    transaction spans several awaits: it holds the lock, and a statement called meanwhile
    waits for it rather than run inside another coroutine's transaction."""

    name = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._session = Session(conn)
        self._lock = asyncio.Lock()
        self.path = path

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """One autocommit statement, all its rows."""
        if self._lock.locked():
            async with self._lock:
                return await self._session.fetch_all(sql, params)
        return await self._session.fetch_all(sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One autocommit statement; returns the number of rows it changed."""
        if self._lock.locked():
            async with self._lock:
                return await self._session.execute(sql, params)
        return await self._session.execute(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any exception (cancellation included).

        IMMEDIATE takes the write lock up front, so a read-modify-write cannot lose an
        update to another connection and waits (busy_timeout) instead of failing mid-way.
        aiosqlite runs statements in order on one thread, so a ROLLBACK queued after a
        cancelled BEGIN still runs after it.
        """
        async with self._lock:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                yield self._session
                await self._conn.commit()
            except BaseException:
                await self._conn.rollback()
                raise

    def describe(self) -> str:
        return f"SQLite at {self.path}"

    async def close(self) -> None:
        """Close the connection (checkpointing WAL is SQLite's job on last close)."""
        async with self._lock:
            await self._conn.close()


async def open_database(path: Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Database:
    """Open (creating if needed) the database at `path`, configure it and migrate it."""
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise StorageError(f"SQLite {sqlite3.sqlite_version} is too old; 3.35 or newer needed")
    # isolation_level=None: no implicit transactions; we say BEGIN IMMEDIATE where we mean it.
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await configure(conn, busy_timeout_ms)
        version = await migrate(conn)
    except BaseException:
        await conn.close()
        raise
    log.info("database %s at schema version %d", path, version)
    return Database(conn, path)


async def configure(conn: aiosqlite.Connection, busy_timeout_ms: int) -> None:
    """Set the connection pragmas; WAL lets readers run while one writer commits."""
    conn.row_factory = aiosqlite.Row
    await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    await conn.execute("PRAGMA foreign_keys = ON")
    await _enable_wal(conn, busy_timeout_ms)
    # NORMAL is durable across application crashes in WAL mode; only power loss can
    # drop the last commits, and it never corrupts the file.
    await conn.execute("PRAGMA synchronous = NORMAL")


async def _enable_wal(conn: aiosqlite.Connection, busy_timeout_ms: int) -> None:
    # Switching a new file to WAL can fail with "database is locked" without waiting on the
    # busy handler when another process switches it at the same moment; retry in that window.
    deadline = asyncio.get_running_loop().time() + busy_timeout_ms / 1000
    while True:
        try:
            async with conn.execute("PRAGMA journal_mode = WAL") as cursor:
                row = await cursor.fetchone()
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.01)
    if row is None or str(row[0]).lower() != "wal":
        raise StorageError(f"could not switch the database to WAL mode (got {row!r})")
