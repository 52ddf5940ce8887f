"""Shards per process (SPEC §11): SHARD_COUNT and SHARD_IDS reach discord.py's
AutoShardedClient, the process gets only its shards' guilds, and only the process that runs
shard 0 syncs the command tree."""

from __future__ import annotations

import asyncio

from tests.e2e.harness import Harness
from tests.e2e.helpers import start_story
from tests.fakes.discord.sharding import shard_of

SYNC = r"/applications/\d+/commands$"


def guild_ids_on(harness: Harness, shard_id: int, count: int) -> set[int]:
    return {g.id for g in harness.discord.guilds if shard_of(g.id, count) == shard_id}


async def test_a_process_without_shard_0_runs_its_shards_and_leaves_the_sync_alone(
    harness: Harness,
) -> None:
    harness.discord.add_guild("On shard 1", shard=(1, 2))
    harness.env(SHARD_COUNT="2", SHARD_IDS="1")
    bot = await harness.start()
    assert (bot.shard_count, bot.shard_ids, list(bot.shards)) == (2, [1], [1])
    await asyncio.wait_for(bot.wait_until_ready(), 10)  # its shard connected and ready
    assert harness.discord.requests_to("PUT", SYNC) == []
    assert {g.id for g in bot.guilds} == guild_ids_on(harness, 1, 2)


async def test_the_process_that_runs_shard_0_syncs_the_commands_once(harness: Harness) -> None:
    mine = harness.discord.add_guild("On shard 0", shard=(0, 2))
    harness.env(SHARD_COUNT="2", SHARD_IDS="0")
    bot = await harness.start()
    assert (bot.shard_count, bot.shard_ids, list(bot.shards)) == (2, [0], [0])
    assert len(harness.discord.requests_to("PUT", SYNC)) == 1
    await asyncio.wait_for(bot.wait_until_ready(), 10)
    assert {g.id for g in bot.guilds} == guild_ids_on(harness, 0, 2)
    assert (await start_story(harness, guild=mine)).filenames == ["scene.png"]
