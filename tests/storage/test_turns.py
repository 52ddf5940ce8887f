"""Turns (`Backend.turn`): on PostgreSQL one process at a time holds a key, and a holder that
dies frees it with its connection; SQLite has one process, so a turn is always free. The bot
takes its IDENTIFYs in turns (bot/identify.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from storage.store import Storage

KEY = 0x7E57


@contextlib.asynccontextmanager
async def two_processes(postgres_url: str, tmp_path: Path) -> AsyncIterator[tuple[Storage, ...]]:
    first = await Storage.open(tmp_path / "a", database_url=postgres_url)
    second = await Storage.open(tmp_path / "b", database_url=postgres_url)
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()


async def advisory(postgres_url: str, *, granted: bool) -> list[int]:
    """Backend pids holding (granted) or waiting for our key, from pg_locks."""
    conn = await asyncpg.connect(postgres_url, timeout=10)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted = $2",
            KEY,
            granted,
        )
    finally:
        await conn.close()
    return [row["pid"] for row in rows]


async def until_waiting(postgres_url: str) -> None:
    """Until the second process is queued behind the first in PostgreSQL (not a sleep)."""
    for _ in range(500):
        if await advisory(postgres_url, granted=False):
            return
        await asyncio.sleep(0.02)
    pytest.fail("the second process never queued for the turn")


Taken = asyncio.Queue[str]


async def hold(storage: Storage, taken: Taken, name: str, release: asyncio.Event) -> None:
    async with storage.db.turn(KEY, wait=30):
        taken.put_nowait(name)
        await release.wait()


async def next_taker(taken: Taken) -> str:
    return await asyncio.wait_for(taken.get(), 10)


async def test_a_turn_is_taken_by_one_process_at_a_time(postgres_url: str, tmp_path: Path) -> None:
    async with two_processes(postgres_url, tmp_path) as (first, second):
        taken: Taken = asyncio.Queue()
        done_first, done_second = asyncio.Event(), asyncio.Event()
        a = asyncio.create_task(hold(first, taken, "first", done_first))
        assert await next_taker(taken) == "first"
        b = asyncio.create_task(hold(second, taken, "second", done_second))
        await until_waiting(postgres_url)
        assert taken.empty(), "the second took the turn while the first held it"
        done_first.set()
        await a
        assert await next_taker(taken) == "second"
        done_second.set()
        await b
        assert await advisory(postgres_url, granted=True) == []  # given back


async def test_the_turn_of_a_process_that_dies_passes_to_the_next(
    postgres_url: str, tmp_path: Path
) -> None:
    async with two_processes(postgres_url, tmp_path) as (first, second):
        taken: Taken = asyncio.Queue()
        a = asyncio.create_task(hold(first, taken, "dies", asyncio.Event()))
        assert await next_taker(taken) == "dies"
        b = asyncio.create_task(hold(second, taken, "next", asyncio.Event()))
        await until_waiting(postgres_url)
        (holder,) = await advisory(postgres_url, granted=True)
        conn = await asyncpg.connect(postgres_url, timeout=10)
        try:  # its connection ends as a killed process's does
            await conn.execute("SELECT pg_terminate_backend($1)", holder)
        finally:
            await conn.close()
        assert await next_taker(taken) == "next"
        for task in (a, b):
            task.cancel()
        await asyncio.gather(a, b, return_exceptions=True)


async def test_on_sqlite_a_turn_is_always_free(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "data")
    try:
        async with storage.db.turn(KEY, wait=0), storage.db.turn(KEY, wait=0):
            pass  # one process: nobody to wait for, even nested
    finally:
        await storage.close()
