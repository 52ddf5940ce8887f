"""Channel messages through discord.py: files, the attachments keep-list, limits, faults."""

from __future__ import annotations

import io
import time

import discord
import pytest

from tests.discord_standin.minibot import MiniBot, picture
from tests.fakes.discord import DiscordStandin
from tests.fakes.pictures import mp4


async def text_channel(bot: MiniBot, standin: DiscordStandin) -> discord.TextChannel:
    channel = await bot.fetch_channel(standin.channel.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_editing_a_channel_message_adds_a_file_and_keeps_the_old_one(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    channel = await text_channel(minibot, discord_standin)
    sent = await channel.send("scene", file=picture("scene.png"))
    message = await channel.fetch_message(sent.id)
    video = discord.File(io.BytesIO(mp4()), filename="scene.mp4")
    edited = await message.edit(attachments=[*message.attachments, video])
    assert [a.filename for a in edited.attachments] == ["scene.png", "scene.mp4"]
    assert edited.attachments[0].id == sent.attachments[0].id
    assert await edited.attachments[1].read() == mp4()
    stored = discord_standin.message(sent.id)
    assert stored.filenames == ["scene.png", "scene.mp4"]
    assert stored.edited_timestamp is not None
    assert stored.history[0]["attachments"][0]["filename"] == "scene.png"


async def test_an_edit_drops_attachments_it_does_not_list(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    channel = await text_channel(minibot, discord_standin)
    sent = await channel.send("two", files=[picture("a.png"), picture("b.png")])
    edited = await sent.edit(attachments=[sent.attachments[1]])
    assert [a.filename for a in edited.attachments] == ["b.png"]
    untouched = await edited.edit(content="still b")
    assert [a.filename for a in untouched.attachments] == ["b.png"]


async def test_a_file_over_the_guild_upload_limit_is_refused_like_discord(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    discord_standin.set_upload_limit(discord_standin.guild, 1000)
    channel = await text_channel(minibot, discord_standin)
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send(file=discord.File(io.BytesIO(mp4(2000)), filename="big.mp4"))
    assert (refused.value.status, refused.value.code) == (413, 40005)
    assert discord_standin.messages_in() == []


async def test_a_rate_limited_request_is_retried_after_retry_after(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    fault = discord_standin.fail("POST", r"/channels/\d+/messages", 429, retry_after=0.2)
    channel = await text_channel(minibot, discord_standin)
    started = time.monotonic()
    await channel.send("eventually")
    assert time.monotonic() - started >= 0.2
    attempts = discord_standin.requests_to("POST", r"/channels/\d+/messages")
    assert [r.status for r in attempts] == [429, 200]
    assert fault.hits == 1
    assert attempts[1].at - attempts[0].at >= 0.2


async def test_a_server_error_that_persists_surfaces_as_discord_server_error(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    discord_standin.fail("GET", r"/channels/\d+/messages/\d+", 503, times=None)
    channel = await text_channel(minibot, discord_standin)
    with pytest.raises(discord.DiscordServerError):  # 503 is not among discord.py's retried codes
        await channel.fetch_message(1)


async def test_message_limits_are_enforced_like_discord(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    channel = await text_channel(minibot, discord_standin)
    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)
    assert too_long.value.code == 50035
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="b", custom_id="c" * 101))
    with pytest.raises(discord.HTTPException) as bad_id:
        await channel.send("x", view=view)
    assert bad_id.value.code == 50035
    with pytest.raises(discord.HTTPException) as empty:
        await channel.send(embeds=[])
    assert empty.value.code == 50006


async def test_bot_messages_come_back_over_the_gateway(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    channel = await text_channel(minibot, discord_standin)
    waiter = minibot.wait_for("message")
    sent = await channel.send("hello", file=picture("p.png"))
    received = await waiter
    assert received.id == sent.id
    assert received.author.id == discord_standin.bot.id
    assert received.attachments[0].filename == "p.png"


async def test_a_fetched_channel_belongs_to_its_guild(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    for guild in discord_standin.guilds:
        channel = await minibot.fetch_channel(guild.text_channel.id)
        assert isinstance(channel, discord.TextChannel)
        assert channel.guild.id == guild.id
    with pytest.raises(discord.NotFound):
        await minibot.fetch_channel(1)


async def test_an_interaction_reply_stays_editable_through_the_channel_after_its_token_expired(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    ix = await discord_standin.slash("story", "start", options={"premise": "x"})
    scene = await ix.wait_for_final()
    assert scene is not None
    discord_standin.expire(ix)
    seen = minibot.seen[-1]
    with pytest.raises(discord.HTTPException) as stale:
        await seen.edit_original_response(content="late")
    assert (stale.value.status, stale.value.code) == (401, 50027)
    channel = await text_channel(minibot, discord_standin)
    message = await channel.fetch_message(scene.id)
    video = discord.File(io.BytesIO(mp4()), filename="scene.mp4")
    await message.edit(attachments=[*message.attachments, video])
    assert scene.filenames == ["scene.png", "scene.mp4"]
    assert scene.custom_ids() == ["scene:regen:1", "scene:next:1"]
