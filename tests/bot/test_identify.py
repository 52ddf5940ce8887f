"""IDENTIFY turns on a shared database (bot/identify.py): one turn per rate-limit bucket
(`shard_id % max_concurrency`, from the loopback Discord's /gateway/bot), so shards of other
buckets identify at once and a shard of a taken bucket queues in PostgreSQL; closing gives
every turn back and ends the waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import discord
import pytest

from bot.discord_endpoints import point_discord_at
from bot.identify import TURN_KEY, IdentifyTurns
from storage import Storage
from tests.fakes.discord import DiscordStandin

WITHIN = 10.0


@pytest.fixture
async def client(discord_standin: DiscordStandin) -> AsyncIterator[discord.AutoShardedClient]:
    point_discord_at(discord_standin.api_base_url, discord_standin.gateway_url)
    logged_in = discord.AutoShardedClient(intents=discord.Intents.none())
    await logged_in.login(discord_standin.token)
    yield logged_in
    await logged_in.close()


async def turns_waiting(postgres_url: str) -> list[int]:
    """The buckets whose turn a process waits for, as PostgreSQL's pg_locks shows them."""
    conn = await asyncpg.connect(postgres_url, timeout=10)
    try:
        rows = await conn.fetch(
            "SELECT (classid::bigint << 32) | objid::bigint AS key FROM pg_locks"
            " WHERE locktype = 'advisory' AND NOT granted"
        )
    finally:
        await conn.close()
    return [int(row["key"]) - TURN_KEY for row in rows]


async def until_waiting(postgres_url: str, bucket: int) -> None:
    for _ in range(int(WITHIN / 0.02)):
        if bucket in await turns_waiting(postgres_url):
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"nobody queued for bucket {bucket}'s turn")


async def test_shards_of_other_buckets_identify_at_once_and_one_of_a_taken_bucket_waits(
    postgres_url: str,
    discord_standin: DiscordStandin,
    client: discord.AutoShardedClient,
    tmp_path: Path,
) -> None:
    discord_standin.gateway.rules.max_concurrency = 2
    storage = await Storage.open(tmp_path / "data", database_url=postgres_url)
    turns = IdentifyTurns(storage.db, client)
    try:
        await asyncio.wait_for(turns.take(0), WITHIN)  # bucket 0
        await asyncio.wait_for(turns.take(1), WITHIN)  # bucket 1: not behind shard 0
        third = asyncio.create_task(turns.take(2))  # bucket 0 again: waits its window out
        await until_waiting(postgres_url, 0)
        assert not third.done()
        await turns.close()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(third, WITHIN)  # a closing bot stops waiting
        assert await turns_waiting(postgres_url) == []
    finally:
        await turns.close()
        await storage.close()
