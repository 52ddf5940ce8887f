"""/models, /usage, /settings, model autocomplete and command sync end to end (SPEC §2, §5, §7)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.e2e.harness import OPERATOR_ID, Harness
from tests.e2e.helpers import (
    embed_fields,
    no_public_messages,
    provider_calls,
    refusal_text,
    start_story,
    tiny_tier,
    write_tiers,
)
from tests.fakes.discord import MANAGER_PERMISSIONS, StoredMessage

NOV_30 = datetime(2026, 11, 30, 12, tzinfo=UTC)  # mini and 1.5 deprecated, not yet retired
# Premium ("all") in order of preference on that day: active models, then deprecated ones.
OFFERED = [
    "gpt-image-2",
    "gpt-image-2.6-flare",
    "gpt-image-2.6-sunburst",
    "grok-imagine",
    "gemini",
    "gemini-pro",
    "gpt-image-1-mini",
    "gpt-image-1.5",
]


@pytest.fixture(autouse=True)
def on_30_november(harness: Harness) -> None:
    harness.now = NOV_30


async def _ephemeral_reply(harness: Harness, *names: str, **kwargs: object) -> StoredMessage:
    ix = await harness.discord.slash(*names, **kwargs)  # type: ignore[arg-type]  # slash() keywords, passed through
    message = await ix.wait_for_final()
    assert message is not None
    assert ix.ephemeral
    assert not ix.deferred
    return message


# -- autocomplete -------------------------------------------------------------------------------


async def test_autocomplete_offers_every_allowed_keyed_model_with_display_provider_and_cost(
    harness: Harness,
) -> None:
    await harness.start()
    choices = await harness.discord.autocomplete("story", "start", focused="model", value="")
    assert [c["value"] for c in choices] == OFFERED
    assert "gpt-image-1" not in [c["value"] for c in choices], "a retired model is not offered"
    assert len(choices) <= 25
    by_key = {c["value"]: c["name"] for c in choices}
    assert by_key["grok-imagine"] == "Grok Imagine · xAI · $$"
    assert by_key["gpt-image-1-mini"] == "GPT Image 1 Mini · OpenAI · $$ · retires 1 Dec"
    assert by_key["gemini"] == "Gemini Flash Image · Google · $$$"
    assert provider_calls(harness) == 0


async def test_autocomplete_filters_by_key_or_display_name_ignoring_case(
    harness: Harness,
) -> None:
    await harness.start()
    discord = harness.discord

    async def values(typed: str) -> list[str]:
        found = await discord.autocomplete("story", "start", focused="model", value=typed)
        return sorted(c["value"] for c in found)

    assert await values("GROK") == ["grok-imagine"]
    assert await values("image 1") == ["gpt-image-1-mini", "gpt-image-1.5"]  # display name
    assert await values("Image-2.6") == ["gpt-image-2.6-flare", "gpt-image-2.6-sunburst"]  # key
    assert await values("1 MINI") == ["gpt-image-1-mini"]
    assert await values("nothing like it") == []
    continued = await discord.autocomplete("story", "continue", focused="model", value="gem")
    assert [c["value"] for c in continued] == ["gemini", "gemini-pro"]


async def test_the_free_tier_offers_gpt_image_2_then_grok_imagine(harness: Harness) -> None:
    harness.env(DEFAULT_TIER="free")
    await harness.start()
    for command in (("story", "start"), ("story", "continue"), ("settings", "model")):
        choices = await harness.discord.autocomplete(*command, focused="model", value="")
        assert [c["value"] for c in choices] == ["gpt-image-2", "grok-imagine"], command
        assert choices[0]["name"] == "GPT Image 2 · OpenAI · $", "free draws at low quality"


async def test_on_the_shutdown_morning_the_retired_models_leave_autocomplete(
    harness: Harness,
) -> None:
    await harness.start()
    harness.now = datetime(2026, 12, 1, tzinfo=UTC)
    choices = await harness.discord.autocomplete("story", "start", focused="model", value="")
    assert [c["value"] for c in choices] == OFFERED[:-2]
    assert not [c for c in choices if "retires" in c["name"]]


# -- /models, /usage, /settings view -----------------------------------------------------------


async def test_models_lists_the_servers_models_with_provider_photos_and_cost(
    harness: Harness,
) -> None:
    harness.env(DEFAULT_TIER="standard")
    await harness.start()
    message = await _ephemeral_reply(harness, "models")
    embed = message.embeds[0]
    assert "standard" in embed["title"]
    text = embed["description"]
    assert "**Grok Imagine** (`grok-imagine`) · xAI · up to 3 reference photos · $$" in text
    assert "**GPT Image 2** (`gpt-image-2`) · OpenAI · up to 16 reference photos · $$" in text
    assert "Gemini Flash Image" in text
    assert "GPT Image 1 Mini" not in text
    assert "Gemini Pro Image" not in text
    assert no_public_messages(harness)


async def test_models_shows_the_shutdown_date_of_a_deprecated_model(harness: Harness) -> None:
    await harness.start()
    text = (await _ephemeral_reply(harness, "models")).embeds[0]["description"]
    assert (
        "**GPT Image 1.5** (`gpt-image-1.5`) · OpenAI · up to 16 reference photos · $$$ · "
        "retires 1 Dec"
    ) in text
    assert "**GPT Image 2** (`gpt-image-2`) · OpenAI · up to 16 reference photos · $$$\n" in text


async def test_usage_counts_scenes_and_says_when_it_resets(harness: Harness) -> None:
    await harness.start()
    before = embed_fields(await _ephemeral_reply(harness, "usage"))
    assert before["Scenes (server)"] == "0 of 1000"
    await start_story(harness, user=701)
    await start_story(harness, user=702)
    after = embed_fields(await _ephemeral_reply(harness, "usage", user=701))
    assert after["Scenes (server)"] == "2 of 1000"
    assert after["Your scenes"] == "1 of 200"
    assert after["Estimated cost"] == "$0.42", "two GPT Image 2 pictures at high quality"
    assert "midnight UTC" in after["Resets"]
    assert "<t:" in after["Resets"]


async def test_settings_view_shows_tier_default_model_and_video(harness: Harness) -> None:
    await harness.start()
    fields = embed_fields(await _ephemeral_reply(harness, "settings", "view"))
    assert fields["Tier"] == "premium"
    assert fields["Default model"] == "the tier's first"
    assert fields["Animate new stories"] == "no"
    assert "1000 scenes (200 per member)" in fields["Quotas per day"]


# -- /help ------------------------------------------------------------------------------------


def _listed(message: StoredMessage) -> list[str]:
    """The command names /help listed, in order."""
    lines = embed_fields(message)["Commands you can use here"].splitlines()
    return [line.split("`")[1] for line in lines]


async def test_help_lists_what_a_member_may_run_and_where_the_server_stands(
    harness: Harness,
) -> None:
    tiers = write_tiers(
        harness.data_dir.parent / "tiers.toml",
        club=tiny_tier(video=True, member_scenes_per_day=2, videos_per_day=1),
    )
    harness.env(TIERS_FILE=str(tiers), DEFAULT_TIER="club")
    await harness.start()
    await start_story(harness, user=701)
    message = await _ephemeral_reply(harness, "help", user=701)
    assert "illustrated stories" in message.embeds[0]["description"]
    listed = _listed(message)
    assert {"/story start", "/story continue", "/models", "/usage", "/help"} <= set(listed)
    assert "/settings view" in listed
    assert "/settings model" not in listed, "a plain member cannot change the default model"
    assert "/settings tier" not in listed
    fields = embed_fields(message)
    assert fields["This server"].startswith("club tier · default model ")
    assert fields["Left today"].startswith(
        "1 scene for you, 99 scenes for the server, 1 video; resets <t:"
    )
    assert len(harness.discord.messages_in()) == 1, "the scene is public, /help is not"


async def test_help_lists_the_settings_a_manager_or_an_operator_may_change(
    harness: Harness,
) -> None:
    await harness.start()
    manager = _listed(await _ephemeral_reply(harness, "help", permissions=MANAGER_PERMISSIONS))
    assert {"/settings model", "/settings video"} <= set(manager)
    assert "/settings tier" not in manager
    operator = _listed(await _ephemeral_reply(harness, "help", user=OPERATOR_ID))
    assert "/settings tier" in operator


# -- /settings model and video need Manage Server -----------------------------------------------


async def test_a_plain_member_cannot_set_the_default_model_or_video(harness: Harness) -> None:
    await harness.start()
    discord = harness.discord
    model = await discord.slash("settings", "model", options={"model": "gemini"})
    assert "Manage Server" in await refusal_text(model)
    video = await discord.slash("settings", "video", options={"enabled": True})
    assert "Manage Server" in await refusal_text(video)
    fields = embed_fields(await _ephemeral_reply(harness, "settings", "view"))
    assert fields["Default model"] == "the tier's first"
    assert fields["Animate new stories"] == "no"
    assert no_public_messages(harness)


async def test_a_manager_sets_the_default_model_and_video(harness: Harness) -> None:
    await harness.start()
    model = await _ephemeral_reply(
        harness, "settings", "model", options={"model": "grok-imagine"},
        permissions=MANAGER_PERMISSIONS,
    )  # fmt: skip
    assert "Grok Imagine" in model.content
    video = await _ephemeral_reply(
        harness, "settings", "video", options={"enabled": True}, permissions=MANAGER_PERMISSIONS
    )
    assert "animate every scene" in video.content
    fields = embed_fields(await _ephemeral_reply(harness, "settings", "view"))
    assert fields["Default model"] == "Grok Imagine"
    assert fields["Animate new stories"] == "yes"


async def test_a_manager_cannot_make_a_model_outside_the_tier_the_default(
    harness: Harness,
) -> None:
    harness.env(DEFAULT_TIER="free")
    await harness.start()
    ix = await harness.discord.slash(
        "settings", "model", options={"model": "gemini"}, permissions=MANAGER_PERMISSIONS
    )
    assert "Allowed: `gpt-image-2`, `grok-imagine`." in await refusal_text(ix)
    fields = embed_fields(await _ephemeral_reply(harness, "settings", "view"))
    assert fields["Default model"] == "the tier's first"


# -- /settings tier is for operators only -------------------------------------------------------


async def test_only_an_operator_changes_the_tier_and_autocomplete_follows(
    harness: Harness,
) -> None:
    await harness.start()
    discord = harness.discord
    refused = await discord.slash(
        "settings", "tier", options={"tier": "free"}, permissions=MANAGER_PERMISSIONS
    )
    assert "operators" in await refusal_text(refused)
    still = await discord.autocomplete("story", "start", focused="model", value="")
    assert len(still) == len(OFFERED)
    done = await _ephemeral_reply(
        harness, "settings", "tier", options={"tier": "free"}, user=OPERATOR_ID
    )
    assert "free" in done.content
    after = await discord.autocomplete("story", "start", focused="model", value="")
    assert [c["value"] for c in after] == ["gpt-image-2", "grok-imagine"]
    fields = embed_fields(await _ephemeral_reply(harness, "settings", "view"))
    assert fields["Tier"] == "free"
    other = discord.guilds[1]
    untouched = await discord.autocomplete("story", "start", focused="model", guild=other)
    assert len(untouched) == len(OFFERED), "only this server's tier changed"


# -- command sync -------------------------------------------------------------------------------


async def test_commands_sync_globally_once_and_not_again_after_a_restart(
    harness: Harness,
) -> None:
    await harness.start()
    discord = harness.discord
    assert discord.command_syncs() == 1
    assert {c["name"] for c in discord.commands()} == {
        "story",
        "settings",
        "models",
        "usage",
        "help",
    }
    await harness.restart()
    assert discord.command_syncs() == 1
    assert all(discord.command_syncs(guild) == 0 for guild in discord.guilds)


async def test_commands_sync_to_the_dev_guild_when_one_is_set(harness: Harness) -> None:
    dev = harness.discord.guild
    harness.env(DEV_GUILD_ID=str(dev.id))
    await harness.start()
    discord = harness.discord
    assert discord.command_syncs(dev) == 1
    assert {c["name"] for c in discord.commands(dev)} == {
        "story",
        "settings",
        "models",
        "usage",
        "help",
    }
    assert discord.command_syncs() == 0
    assert discord.commands() == []
    assert discord.command_syncs(discord.guilds[1]) == 0
