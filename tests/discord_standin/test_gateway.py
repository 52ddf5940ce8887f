"""The gateway: IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME after a drop, re-IDENTIFY."""

from __future__ import annotations

import discord
import pytest

from bot.discord_endpoints import point_discord_at
from tests.discord_standin.minibot import MiniBot
from tests.fakes.discord import DiscordStandin
from tests.fakes.discord.fixtures import running


async def test_client_sees_guilds_channels_and_itself_after_ready(
    discord_standin: DiscordStandin,
) -> None:
    point_discord_at(discord_standin.api_base_url, discord_standin.gateway_url)
    async with running(MiniBot(), discord_standin, ready=True) as bot:
        assert bot.user is not None
        assert bot.user.id == discord_standin.bot.id
        assert bot.application_id == discord_standin.application_id
        assert {g.id for g in bot.guilds} == {g.id for g in discord_standin.guilds}
        assert len(bot.guilds) >= 2
        for guild in discord_standin.guilds:
            cached = bot.get_guild(guild.id)
            assert cached is not None
            assert cached.me is not None
            assert isinstance(cached.get_channel(guild.text_channel.id), discord.TextChannel)
            assert cached.default_role.id == guild.id
            assert cached.filesize_limit == guild.upload_limit
    assert discord_standin.gateway.identifies == 1
    connect = discord_standin.requests_to("GET", "/gateway")[0]
    # zstd-stream: discord.py asks for it when zstandard (its `speed` extra) is installed.
    assert connect.query == {"v": "10", "encoding": "json", "compress": "zstd-stream"}


async def test_heartbeats_are_acknowledged(discord_endpoints_restored: None) -> None:
    async with DiscordStandin(heartbeat_interval_ms=30) as standin:
        point_discord_at(standin.api_base_url, standin.gateway_url)
        async with running(MiniBot(), standin) as bot:
            await standin.until(lambda: standin.gateway.heartbeats >= 4, what="for heartbeats")
            assert bot.latency < 1.0  # set only when an ACK follows a heartbeat
            assert bot.ws is not None
            assert bot.ws._keep_alive is not None
        assert not standin.errors


async def test_a_heartbeat_request_is_answered_at_once(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    before = discord_standin.gateway.heartbeats
    await discord_standin.request_heartbeat()
    await discord_standin.until(lambda: discord_standin.gateway.heartbeats > before)


@pytest.mark.parametrize("close_code", [None, 4000, 1006], ids=["cut", "close-4000", "close-1006"])
async def test_client_resumes_after_a_dropped_connection_and_still_gets_interactions(
    minibot: MiniBot, discord_standin: DiscordStandin, close_code: int | None
) -> None:
    gateway = discord_standin.gateway
    await discord_standin.drop_gateway(close_code)
    await discord_standin.until(lambda: gateway.resumes == 1, what="for the RESUME")
    ix = await discord_standin.slash("ping")
    message = await ix.wait_for_final()
    assert message is not None
    assert message.content == "pong"
    assert gateway.identifies == 1  # the same session carried on
    assert gateway.connection_paths == ["/gateway", "/gateway/resume"]  # READY's resume URL


async def test_interactions_sent_while_disconnected_are_replayed_on_resume(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    await discord_standin.drop_gateway()
    ix = await discord_standin.slash("ping", wait_ack=False)  # buffered: nobody is connected
    await ix.wait_for_ack()
    assert discord_standin.gateway.resumes == 1
    assert [i.id for i in minibot.seen] == [ix.id]


async def test_reconnect_opcode_makes_the_client_resume(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    await discord_standin.request_reconnect()
    await discord_standin.until(lambda: discord_standin.gateway.resumes == 1)
    assert (await (await discord_standin.slash("ping")).wait_for_final()) is not None


class EagerBot(MiniBot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before every IDENTIFY but the first; a test need not."""


async def test_invalid_session_makes_the_client_identify_again_at_the_default_gateway(
    discord_standin: DiscordStandin,
) -> None:
    point_discord_at(discord_standin.api_base_url, discord_standin.gateway_url)
    async with running(EagerBot(), discord_standin) as bot:
        await bot.tree.sync()
        await discord_standin.invalidate_session()
        await discord_standin.until(lambda: discord_standin.gateway.identifies == 2)
        await discord_standin.wait_until_connected()
        assert discord_standin.gateway.connection_paths[-1] == "/gateway"  # DEFAULT_GATEWAY
        assert (await (await discord_standin.slash("ping")).wait_for_final()) is not None


async def test_a_wrong_token_fails_login(discord_standin: DiscordStandin) -> None:
    point_discord_at(discord_standin.api_base_url, discord_standin.gateway_url)
    client = MiniBot()
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
    assert discord_standin.requests[-1].status == 401


async def test_a_restarted_client_gets_a_new_session_and_old_buttons_still_work(
    discord_standin: DiscordStandin,
) -> None:
    point_discord_at(discord_standin.api_base_url, discord_standin.gateway_url)
    async with running(MiniBot(), discord_standin) as first:
        await first.tree.sync()
        scene = await (
            await discord_standin.slash("story", "start", options={"premise": "x"})
        ).wait_for_final()
    assert scene is not None
    assert not discord_standin.gateway.connected
    async with running(MiniBot(), discord_standin) as second:
        click = await discord_standin.click(scene, "scene:regen:1")
        assert await click.wait_for_final() is scene
        assert [i.id for i in second.seen] == [click.id]
    assert discord_standin.gateway.identifies == 2
