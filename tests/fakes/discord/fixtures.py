"""pytest fixtures for the Discord stand-in.

Register once in tests/conftest.py: `pytest_plugins = ["tests.fakes.discord.fixtures"]`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

import discord
import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.fakes.discord.standin import DiscordStandin

ClientT = TypeVar("ClientT", bound=discord.Client)


@pytest.fixture
def discord_endpoints_restored() -> Iterator[None]:
    """`point_discord_at` changes process-wide class attributes; put them back afterwards."""
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest.fixture
async def discord_standin(discord_endpoints_restored: None) -> AsyncIterator[DiscordStandin]:
    """A running stand-in. It does not point discord.py at itself: the code under test does
    (the bot through DISCORD_API_BASE_URL / DISCORD_GATEWAY_URL, see `discord_env`)."""
    async with DiscordStandin() as standin:
        yield standin
        assert not standin.errors, f"the Discord stand-in itself failed: {standin.errors!r}"


@pytest.fixture
def discord_env(discord_standin: DiscordStandin, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The bot's Discord settings (SPEC §3) aimed at the stand-in, also set in the environment."""
    env = {
        "DISCORD_TOKEN": discord_standin.token,
        "DISCORD_API_BASE_URL": discord_standin.api_base_url,
        "DISCORD_GATEWAY_URL": discord_standin.gateway_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@contextlib.asynccontextmanager
async def running(
    client: ClientT, standin: DiscordStandin, *, ready: bool = False
) -> AsyncIterator[ClientT]:
    """Log `client` in, run its gateway loop, and close it on exit.

    Waits until the stand-in has sent READY and every GUILD_CREATE, so injected interactions
    arrive after them. `ready=True` also waits for discord.py's own `on_ready`, which comes
    `guild_ready_timeout` (2 s by default) after the last GUILD_CREATE.
    """
    await client.login(standin.token)
    task = asyncio.create_task(client.connect(reconnect=True), name="discord-client")
    try:
        await standin.wait_until_connected()
        if ready:
            await asyncio.wait_for(client.wait_until_ready(), timeout=10)
        yield client
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)
