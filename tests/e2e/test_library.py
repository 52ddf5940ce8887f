"""/story list and /story delete end to end (SPEC §5): a member's stories, and deleting one
with everything it stored."""

from __future__ import annotations

import copy

from tests.e2e.harness import Harness
from tests.e2e.helpers import (
    SCENES_USED,
    custom_id,
    refusal_text,
    start_story,
    usage_field,
)
from tests.fakes.discord import MANAGER_PERMISSIONS, StoredMessage, Upload
from tests.fakes.pictures import png

AUTHOR, OTHER = 601, 602
DELETES_STORIES = True  # a deleted story takes its video jobs with it


async def _continue(harness: Harness, scene: StoredMessage, user: int) -> StoredMessage:
    ix = await harness.discord.click(scene, custom_id(scene, "continue"), user=user)
    follow = await ix.wait_for_final()
    assert follow is not None
    return follow


async def _ephemeral(harness: Harness, *names: str, **kwargs: object) -> StoredMessage:
    ix = await harness.discord.slash(*names, **kwargs)  # type: ignore[arg-type]  # slash() keywords
    message = await ix.wait_for_final()
    assert message is not None
    assert ix.ephemeral
    return message


async def test_list_shows_the_members_own_stories_newest_first_with_a_jump_link(
    harness: Harness,
) -> None:
    await harness.start()
    guild = harness.discord.guild
    empty = await _ephemeral(harness, "story", "list", user=AUTHOR)
    assert "no stories here yet" in empty.embeds[0]["description"]
    first = await start_story(harness, "The first voyage", user=AUTHOR)
    second = await start_story(harness, "A second tale", user=AUTHOR)
    latest = await _continue(harness, second, AUTHOR)
    await start_story(harness, "Somebody else's", user=OTHER)
    shown = (await _ephemeral(harness, "story", "list", user=AUTHOR)).embeds[0]["description"]
    lines = shown.splitlines()
    assert len(lines) == 2, "only the member's own stories"
    assert lines[0].startswith("**A second tale** · 2 scenes · <t:")
    assert f"https://discord.com/channels/{guild.id}/{latest.channel_id}/{latest.id}" in lines[0]
    assert lines[1].startswith("**The first voyage** · 1 scene · <t:")
    assert str(first.id) in lines[1]
    assert len(harness.discord.messages_in()) == 4, "/story list posts nothing publicly"


async def test_the_author_deletes_a_story_with_everything_it_stored(harness: Harness) -> None:
    await harness.start()
    discord, data = harness.discord, harness.data_dir
    scene = await start_story(
        harness, "A fox and a whale", user=AUTHOR,
        attachments={"reference": Upload(png((32, 32)), "fox.png", "image/png")},
    )  # fmt: skip
    stale = copy.deepcopy(scene)
    animate = await discord.click(scene, custom_id(scene, "animate"), user=AUTHOR)
    await animate.wait_for_final()
    await discord.until(lambda: "scene.mp4" in scene.filenames, 20, "for the video")
    follow = await _continue(harness, scene, AUTHOR)
    kept = await start_story(harness, "Another story", user=AUTHOR)
    used = await usage_field(harness, SCENES_USED)
    assert any((data / "references").rglob("*.png"))

    choices = await discord.autocomplete(
        "story", "delete", focused="story", value="fox", user=AUTHOR
    )
    assert [c["name"] for c in choices] == ["A fox and a whale"]
    prompt = await _ephemeral(
        harness, "story", "delete", options={"story": choices[0]["value"]}, user=AUTHOR
    )
    assert "Delete **A fox and a whale** for good? Its 2 scenes" in prompt.content
    assert discord.messages_in()[0].attachments, "nothing is deleted before the confirmation"
    confirm = await discord.click(prompt, prompt.custom_ids()[0], user=AUTHOR)
    await confirm.wait_for_final()
    assert discord.message(prompt.id).content == "Deleted **A fox and a whale**."

    for message in (scene, follow):
        await discord.until(lambda m=message: not m.attachments, 20, "for the scene to be cleared")
        assert message.embeds[0]["description"] == "🗑️ This story was deleted."
        assert message.buttons() == []
    assert kept.attachments, "another story is untouched"
    for folder in ("images", "videos", "references"):
        left = sorted(p.name for p in (data / folder).rglob("*") if p.is_file())
        assert left == (["3.png"] if folder == "images" else []), (folder, left)
    assert await usage_field(harness, SCENES_USED) == used, "usage counts stay"
    pressed = await discord.click(stale, custom_id(stale, "regen"), user=AUTHOR)
    assert "no longer exists" in await refusal_text(pressed)


async def test_only_the_author_or_a_manager_may_delete_and_never_across_servers(
    harness: Harness,
) -> None:
    await harness.start()
    discord = harness.discord
    await start_story(harness, "Mine to keep", user=AUTHOR)
    story_id = "1"
    mine = await discord.autocomplete("story", "delete", focused="story", value="", user=OTHER)
    assert mine == [], "another member is offered no one else's story"
    refused = await discord.slash("story", "delete", options={"story": story_id}, user=OTHER)
    assert "author or a member with Manage Server" in await refusal_text(refused)
    elsewhere = await discord.slash(
        "story", "delete", options={"story": story_id}, user=AUTHOR,
        permissions=MANAGER_PERMISSIONS, guild=discord.guilds[1],
    )  # fmt: skip
    assert await refusal_text(elsewhere) == "There is no such story on this server."
    manager = await discord.autocomplete(
        "story", "delete", focused="story", value="", user=OTHER, permissions=MANAGER_PERMISSIONS
    )
    assert [c["value"] for c in manager] == [story_id]
    prompt = await _ephemeral(
        harness, "story", "delete", options={"story": story_id}, user=OTHER,
        permissions=MANAGER_PERMISSIONS,
    )  # fmt: skip
    confirm = await discord.click(
        prompt, prompt.custom_ids()[0], user=OTHER, permissions=MANAGER_PERMISSIONS
    )
    await confirm.wait_for_final()
    assert harness.bot is not None
    assert await harness.bot.services.storage.stories.get(1) is None
