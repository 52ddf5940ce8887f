from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.discord_endpoints import point_discord_at
from tests.discord_standin.minibot import MiniBot
from tests.fakes.discord import DiscordStandin
from tests.fakes.discord.fixtures import running


@pytest.fixture
async def minibot(discord_standin: DiscordStandin) -> AsyncIterator[MiniBot]:
    """A connected minimal client with its commands synced globally."""
    point_discord_at(discord_standin.api_base_url, discord_standin.gateway_url)
    bot = MiniBot()
    async with running(bot, discord_standin):
        await bot.tree.sync()
        yield bot
