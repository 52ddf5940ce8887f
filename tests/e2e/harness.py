"""The real StoryBot, built from settings exactly as `python -m bot` builds it, connected to
the loopback Discord and provider stand-ins. Only environment variables point it there."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from bot.__main__ import load_configuration
from bot.app import StoryBot
from bot.discord_endpoints import point_discord_at
from bot.wiring import build_services
from providers.registry import utc_now
from tests.fakes.discord import DiscordStandin
from tests.fakes.discord.fixtures import running
from tests.fakes.gemini_api import GeminiStandin
from tests.fakes.openai_api import OpenAIStandin
from tests.fakes.xai_api import XAIStandin

OPERATOR_ID = 4242


@dataclass
class Harness:
    discord: DiscordStandin
    openai: OpenAIStandin
    xai: XAIStandin
    gemini: GeminiStandin
    data_dir: Path
    monkeypatch: pytest.MonkeyPatch
    bot: StoryBot | None = None
    now: datetime | None = None  # the bot's clock for model lifecycles; None: the real time
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    def env(self, **values: str) -> None:
        for name, value in values.items():
            self.monkeypatch.setenv(name, value)

    async def start(self) -> StoryBot:
        """Build and connect a bot from the environment (what `python -m bot` does)."""
        if self.now is not None:
            self.openai.today = self.now.date()  # the stand-in serves what OpenAI serves then
        settings, catalog, tiers = load_configuration(clock=self.clock)
        point_discord_at(settings.discord_api_base_url, settings.discord_gateway_url)
        services = await build_services(settings, catalog, tiers)
        bot = StoryBot(services, guild_ready_timeout=0.05)
        self._stack.push_async_callback(services.close)
        await self._stack.enter_async_context(running(bot, self.discord))
        self.bot = bot
        return bot

    def clock(self) -> datetime:
        """The injected clock: set `harness.now` to move the bot to another day, no sleeping."""
        return self.now if self.now is not None else utc_now()

    async def stop(self) -> None:
        await self._stack.aclose()
        self._stack = contextlib.AsyncExitStack()
        self.bot = None

    async def restart(self) -> StoryBot:
        await self.stop()
        return await self.start()


@contextlib.asynccontextmanager
async def harness_for(
    discord: DiscordStandin,
    openai: OpenAIStandin,
    xai: XAIStandin,
    gemini: GeminiStandin,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Harness]:
    for name in ("DEV_GUILD_ID", "MODELS_FILE", "TIERS_FILE", "TEXT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    harness = Harness(discord, openai, xai, gemini, data_dir, monkeypatch)
    harness.env(
        DISCORD_TOKEN=discord.token,
        DISCORD_API_BASE_URL=discord.api_base_url,
        DISCORD_GATEWAY_URL=discord.gateway_url,
        OPENAI_API_KEY="sk-test-openai",
        OPENAI_BASE_URL=openai.base_url,
        XAI_API_KEY="xai-test-key",
        XAI_BASE_URL=xai.base_url,
        GEMINI_API_KEY="gemini-test-key",
        GEMINI_BASE_URL=gemini.base_url,
        DATA_DIR=str(data_dir),
        OWNER_IDS=str(OPERATOR_ID),
        DEFAULT_TIER="premium",
        VIDEO_POLL_SECONDS="0.05",
    )
    try:
        yield harness
    finally:
        await harness.stop()
