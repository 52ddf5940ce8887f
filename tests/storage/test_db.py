"""The connection: pragmas, transactions that roll back, and no coroutine inside another's."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage import Storage
from storage.db import DEFAULT_BUSY_TIMEOUT_MS, open_database
from storage.store import DB_FILE_NAME


@pytest.fixture
def backend() -> str:
    """The connection pragmas and the lock are SQLite's own (the contract tests run both)."""
    return "sqlite"


async def test_database_lives_at_data_dir_storybot_db(storage: Storage, data_dir: Path) -> None:
    assert storage.db.path == data_dir / DB_FILE_NAME
    assert (data_dir / "storybot.db").is_file()


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [
        ("journal_mode", "wal"),
        ("foreign_keys", 1),
        ("busy_timeout", DEFAULT_BUSY_TIMEOUT_MS),
        ("synchronous", 1),  # NORMAL
    ],
)
async def test_connection_pragmas_are_set(storage: Storage, pragma: str, expected: object) -> None:
    row = await storage.db.fetch_one(f"PRAGMA {pragma}")
    assert row is not None
    assert row[0] == expected


async def test_foreign_keys_are_enforced(storage: Storage) -> None:
    with pytest.raises(Exception, match="FOREIGN KEY"):
        await storage.db.execute(
            "INSERT INTO reference_photos VALUES (999, 0, '0.png', 'image/png', 1)"
        )


async def test_a_transaction_that_raises_leaves_nothing_behind(storage: Storage) -> None:
    async def write_then_fail() -> None:
        async with storage.db.transaction() as tx:
            await tx.execute("INSERT INTO meta VALUES ('k', 'v')")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await write_then_fail()
    assert await storage.meta.get("k") is None


async def test_a_cancelled_transaction_rolls_back_and_frees_the_connection(
    storage: Storage,
) -> None:
    entered = asyncio.Event()

    async def stuck_writer() -> None:
        async with storage.db.transaction() as tx:
            await tx.execute("INSERT INTO meta VALUES ('k', 'v')")
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck_writer())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await storage.meta.set("other", "x")  # would fail inside a dangling transaction
    assert await storage.meta.get("k") is None
    assert await storage.meta.get("other") == "x"


async def test_a_statement_waits_for_another_coroutines_transaction(storage: Storage) -> None:
    # Without the lock this read would run inside the open transaction and see 'v'.
    seen: list[str | None] = []
    inside = asyncio.Event()

    async def writer() -> None:
        async with storage.db.transaction() as tx:
            await tx.execute("INSERT INTO meta VALUES ('k', 'v')")
            inside.set()
            await asyncio.sleep(0.05)
            raise RuntimeError("rolled back")

    task = asyncio.create_task(writer())
    await inside.wait()
    seen.append(await storage.meta.get("k"))
    with pytest.raises(RuntimeError):
        await task
    assert seen == [None]


async def test_open_database_creates_a_missing_file(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "fresh.db")
    await db.close()
    assert (tmp_path / "fresh.db").stat().st_size > 0


async def test_a_statement_called_just_before_a_transaction_is_not_rolled_back_with_it(
    storage: Storage,
) -> None:
    # Single statements take no lock; one called before a transaction begins runs before it.
    async def failing() -> None:
        async with storage.db.transaction() as tx:
            await tx.execute("INSERT INTO meta VALUES ('inside', 'x')")
            raise RuntimeError("rolled back")

    write = asyncio.create_task(storage.meta.set("before", "kept"))
    transaction = asyncio.create_task(failing())
    await write
    with pytest.raises(RuntimeError):
        await transaction
    assert await storage.meta.get("before") == "kept"
    assert await storage.meta.get("inside") is None
