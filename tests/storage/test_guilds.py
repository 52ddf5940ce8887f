"""Guild settings and the meta key/value table."""

from __future__ import annotations

import asyncio

from storage import GuildSettings, Storage


async def test_an_unconfigured_guild_has_default_settings(storage: Storage) -> None:
    assert await storage.guilds.get(1) == GuildSettings(1, None, None, False)


async def test_guild_settings_round_trip(storage: Storage) -> None:
    await storage.guilds.set_tier(1, "premium")
    await storage.guilds.set_default_model(1, "gemini")
    returned = await storage.guilds.set_video_default(1, True)
    assert returned == GuildSettings(1, "premium", "gemini", True)
    assert await storage.guilds.get(1) == returned
    assert await storage.guilds.get(2) == GuildSettings(2)


async def test_settings_can_be_reset_to_the_default(storage: Storage) -> None:
    await storage.guilds.set_tier(1, "premium")
    assert (await storage.guilds.set_tier(1, None)).tier is None


async def test_changing_one_setting_keeps_the_others(storage: Storage) -> None:
    await storage.guilds.set_tier(1, "standard")
    await storage.guilds.set_video_default(1, True)
    after = await storage.guilds.set_default_model(1, "grok-imagine")
    assert after == GuildSettings(1, "standard", "grok-imagine", True)


async def test_two_writers_changing_different_settings_lose_neither(
    storage: Storage, second_storage: Storage
) -> None:
    for guild_id in range(50):
        await asyncio.gather(
            storage.guilds.set_tier(guild_id, "premium"),
            second_storage.guilds.set_default_model(guild_id, "gemini"),
            storage.guilds.set_video_default(guild_id, True),
        )
    for guild_id in range(50):
        assert await second_storage.guilds.get(guild_id) == GuildSettings(
            guild_id, "premium", "gemini", True
        )


async def test_meta_values_are_stored_and_replaced(storage: Storage) -> None:
    assert await storage.meta.get("command_tree_hash") is None
    await storage.meta.set("command_tree_hash", "a")
    await storage.meta.set("command_tree_hash", "b")
    assert await storage.meta.get("command_tree_hash") == "b"


async def test_discord_snowflakes_round_trip(storage: Storage) -> None:
    snowflake = 1_317_000_000_000_000_000  # ids of today's guilds need 64 bits
    await storage.guilds.set_tier(snowflake, "premium")
    assert (await storage.guilds.get(snowflake)).tier == "premium"
