"""Interactions through the stand-in: commands, autocomplete, buttons, and the bot's answers."""

from __future__ import annotations

import discord
import pytest

from tests.discord_standin.minibot import MiniBot
from tests.fakes.discord import MANAGER_PERMISSIONS, DiscordStandin, Upload
from tests.fakes.pictures import jpeg, png


async def test_slash_command_is_deferred_then_edited_into_a_message_with_file_and_buttons(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    ix = await discord_standin.slash("story", "start", options={"premise": "A fox"})
    assert ix.ack is not None
    assert ix.ack.type == 5
    assert not ix.ephemeral
    assert ix.ack_latency is not None
    assert ix.ack_latency < 1.0
    message = await ix.wait_for_final()
    assert message is not None
    assert message is ix.original
    assert not message.loading
    assert message.filenames == ["scene.png"]
    assert message.custom_ids() == ["scene:regen:1", "scene:next:1"]
    assert message.embeds[0]["title"] == "Scene 1"
    payload = discord_standin.state.message_payload(message)
    assert payload["embeds"][0]["image"]["url"] == payload["attachments"][0]["url"]
    edit = discord_standin.requests_to("PATCH", r"/webhooks/\d+/[^/]+/messages/@original")[-1]
    assert [f.filename for f in edit.files] == ["scene.png"]
    assert edit.json["attachments"] == [{"id": 0, "filename": "scene.png"}]
    assert edit.at > ix.ack.at


async def test_reference_attachment_is_resolved_and_served_by_the_cdn(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    photo = png(color="green")
    ix = await discord_standin.slash(
        "story",
        "start",
        options={"premise": "A cat"},
        attachments={"reference": Upload(photo, "cat.png")},
    )
    await ix.wait_for_final()
    assert minibot.references == [photo]
    resolved = ix.payload["data"]["options"][0]["options"]
    assert resolved[1]["type"] == 11
    attachment = ix.payload["data"]["resolved"]["attachments"][resolved[1]["value"]]
    assert attachment["content_type"] == "image/png"
    assert attachment["width"] == 8
    assert discord_standin.requests_to("GET", r"/ephemeral-attachments/.*/cat\.png")


async def test_interaction_carries_the_members_permissions_user_guild_and_limits(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    other = discord_standin.guilds[1]
    member = discord_standin.add_user("alice", other)
    discord_standin.set_upload_limit(other, 50 * 1024 * 1024)
    await discord_standin.slash("ping", user=member, guild=other, permissions=MANAGER_PERMISSIONS)
    seen = minibot.seen[-1]
    assert seen.user.id == member.id
    assert isinstance(seen.user, discord.Member)
    assert seen.guild_id == other.id
    assert seen.channel is not None
    assert seen.channel.id == other.text_channel.id
    assert seen.permissions.manage_guild
    assert not seen.permissions.administrator
    assert seen.app_permissions.attach_files
    assert seen.filesize_limit == 50 * 1024 * 1024
    assert seen.locale is discord.Locale.american_english


async def test_a_member_without_manage_server_has_no_such_permission(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    await discord_standin.slash("ping")
    assert not minibot.seen[-1].permissions.manage_guild


async def test_ephemeral_answer_is_invisible_in_the_channel(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    ix = await discord_standin.slash("story", "refuse")
    message = await ix.wait_for_final()
    assert ix.ack is not None
    assert ix.ack.type == 4
    assert ix.ephemeral
    assert message is not None
    assert message.content == "not allowed"
    assert discord_standin.messages_in() == []


async def test_subcommand_group_options_are_nested_like_discord_does(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    ix = await discord_standin.slash("admin", "tier", "set", options={"tier": "premium"})
    message = await ix.wait_for_final()
    assert message is not None
    assert message.content == "tier=premium"
    group = ix.payload["data"]["options"][0]
    assert (group["name"], group["type"]) == ("tier", 2)
    assert group["options"][0]["options"] == [{"name": "tier", "type": 3, "value": "premium"}]


async def test_commands_and_options_must_exist_as_synced(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    with pytest.raises(LookupError, match="not registered"):
        await discord_standin.slash("nope")
    with pytest.raises(LookupError, match="needs a subcommand"):
        await discord_standin.slash("story")
    with pytest.raises(ValueError, match="required"):
        await discord_standin.slash("story", "start")
    with pytest.raises(ValueError, match="choices"):
        await discord_standin.slash("admin", "tier", "set", options={"tier": "gold"})
    with pytest.raises(TypeError):
        await discord_standin.slash("story", "start", options={"premise": Upload(jpeg(), "a.jpg")})


async def test_autocomplete_returns_the_bots_choices(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    choices = await discord_standin.autocomplete("settings", "model", focused="model", value="GPT")
    assert [c["value"] for c in choices] == ["gpt-image-1-mini", "gpt-image-2"]
    assert len(await discord_standin.autocomplete("settings", "model", focused="model")) == 25
    ack = discord_standin.state.interactions[max(discord_standin.state.interactions)].ack
    assert ack is not None
    assert ack.type == 8


async def test_button_click_reaches_the_dynamic_item_and_replaces_the_picture(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    scene = await (
        await discord_standin.slash("story", "start", options={"premise": "x"})
    ).wait_for_final()
    assert scene is not None
    old = scene.attachments[0]
    click = await discord_standin.click(scene, "scene:regen:1")
    assert click.ack is not None
    assert click.ack.type == 6
    assert await click.wait_for_final() is scene
    assert len(scene.attachments) == 1
    assert scene.attachments[0].id != old.id
    assert scene.attachments[0].data != old.data
    assert scene.custom_ids() == [
        "scene:regen:1",
        "scene:next:1",
    ]
    assert click.payload["message"]["id"] == str(scene.id)


async def test_first_followup_after_a_thinking_deferral_fills_the_placeholder(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    scene = await (
        await discord_standin.slash("story", "start", options={"premise": "x"})
    ).wait_for_final()
    assert scene is not None
    click = await discord_standin.click(scene, "scene:next:1")
    answer = await click.wait_for_final()
    assert answer is not None
    assert answer.content == "continued"
    assert answer.ephemeral
    assert answer is click.original
    assert click.followups == [answer]


async def test_clicking_a_component_that_is_not_on_the_message_is_refused(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    scene = await (
        await discord_standin.slash("story", "start", options={"premise": "x"})
    ).wait_for_final()
    assert scene is not None
    with pytest.raises(LookupError, match="has no component"):
        await discord_standin.click(scene, "scene:regen:2")


async def test_a_file_sent_with_the_response_survives_an_edit_of_the_original(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    ix = await discord_standin.slash("picture")
    assert ix.ack is not None
    assert [f.filename for f in ix.ack.files] == ["p.png"]
    await discord_standin.wait_for_request("PATCH", r"/webhooks/\d+/[^/]+/messages/@original")
    message = ix.original
    assert message is not None
    assert (message.content, message.filenames) == ("here it is", ["p.png"])
    assert discord_standin.requests_to("GET", r"/webhooks/\d+/[^/]+/messages/@original")


async def test_a_member_can_be_given_by_user_id(
    minibot: MiniBot, discord_standin: DiscordStandin
) -> None:
    await discord_standin.slash("ping", user=4242)
    assert minibot.seen[-1].user.id == 4242
