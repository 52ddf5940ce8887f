"""Shards per process (SPEC §11): SHARD_COUNT and SHARD_IDS reach discord.py's
AutoShardedClient, and only the process that runs shard 0 syncs the command tree."""

from __future__ import annotations

import asyncio

from tests.e2e.harness import Harness
from tests.e2e.helpers import start_story

SYNC = r"/applications/\d+/commands$"


async def test_a_process_without_shard_0_runs_its_shards_and_leaves_the_sync_alone(
    harness: Harness,
) -> None:
    harness.env(SHARD_COUNT="2", SHARD_IDS="1")
    bot = await harness.start()
    assert (bot.shard_count, bot.shard_ids, list(bot.shards)) == (2, [1], [1])
    await asyncio.wait_for(bot.wait_until_ready(), 10)  # its shard connected and ready
    assert harness.discord.requests_to("PUT", SYNC) == []


async def test_the_process_that_runs_shard_0_syncs_the_commands_once(harness: Harness) -> None:
    harness.env(SHARD_COUNT="2", SHARD_IDS="0")
    bot = await harness.start()
    assert (bot.shard_count, bot.shard_ids, list(bot.shards)) == (2, [0], [0])
    assert len(harness.discord.requests_to("PUT", SYNC)) == 1
    assert (await start_story(harness)).filenames == ["scene.png"]
