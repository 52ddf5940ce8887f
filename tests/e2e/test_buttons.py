"""The scene buttons end to end: Regenerate, Continue, after a restart, across guilds, and
forged or stale custom_ids (SPEC §5 "Buttons")."""

from __future__ import annotations

import copy

from tests.e2e.harness import Harness
from tests.e2e.helpers import (
    custom_id,
    embed_fields,
    image_calls,
    redrawing,
    refusal_text,
    regenerated,
    start_story,
)
from tests.fakes.openai_api import GENERATIONS


async def _my_scenes(harness: Harness, user: int) -> str:
    ix = await harness.discord.slash("usage", user=user)
    message = await ix.wait_for_final()
    assert message is not None
    return embed_fields(message)["Your scenes"]


async def test_regenerate_replaces_the_picture_in_the_same_message(harness: Harness) -> None:
    await harness.start()
    scene = await start_story(harness, user=601)
    before = scene.attachments[0].data
    harness.openai.color = (200, 30, 30)
    await harness.discord.click(scene, custom_id(scene, "regen"), user=602)
    edited = await regenerated(harness, scene)
    assert edited.id == scene.id
    assert edited.filenames == ["scene.png"]
    assert edited.attachments[0].data == harness.openai.picture != before
    assert edited.embeds[0]["author"]["name"] == "Scene 1"
    assert len(harness.openai.requests_to(GENERATIONS)) == 2
    assert len(harness.discord.messages_in()) == 1, "no new message for a regenerate"
    assert (await _my_scenes(harness, 602)).startswith("1 of"), "counted for the presser"
    assert (await _my_scenes(harness, 601)).startswith("1 of")


async def test_continue_button_posts_the_next_scene_as_a_new_message(harness: Harness) -> None:
    await harness.start()
    scene = await start_story(harness)
    ix = await harness.discord.click(scene, custom_id(scene, "continue"))
    follow = await ix.wait_for_final()
    assert follow is not None
    assert follow.id != scene.id
    assert follow.embeds[0]["author"]["name"] == "Scene 2"
    assert follow.filenames == ["scene.png"]
    assert len(follow.buttons()) == 3
    assert [m.id for m in harness.discord.messages_in()] == [scene.id, follow.id]


async def test_buttons_keep_working_after_a_restart(harness: Harness) -> None:
    await harness.start()
    scene = await start_story(harness)
    await harness.restart()
    harness.openai.color = "navy"
    await harness.discord.click(scene, custom_id(scene, "regen"))
    edited = await regenerated(harness, scene)
    assert edited.attachments[0].data == harness.openai.picture
    follow = await harness.discord.click(scene, custom_id(scene, "continue"))
    second = await follow.wait_for_final()
    assert second is not None
    assert second.embeds[0]["author"]["name"] == "Scene 2"


async def test_a_button_of_another_guilds_scene_is_refused_and_does_nothing(
    harness: Harness,
) -> None:
    await harness.start()
    discord = harness.discord
    theirs = await start_story(harness)
    other = discord.guilds[1]
    ix = await discord.slash("story", "start", options={"premise": "Mine"}, guild=other)
    mine = await ix.wait_for_final()
    assert mine is not None
    mine.components = copy.deepcopy(theirs.components)  # a crafted click on guild 1's scene
    calls = image_calls(harness)
    for action in ("regen", "animate", "continue"):
        click = await discord.click(mine, custom_id(theirs, action))
        answer = await click.wait_for_final()
        assert answer is not None, action
        assert click.ephemeral, action
        assert "another server" in answer.content
    assert image_calls(harness) == calls
    assert len(discord.messages_in()) == 1
    assert len(discord.messages_in(other.text_channel)) == 1
    assert theirs.attachments[0].data == harness.openai.picture
    assert not theirs.edited_timestamp


async def test_a_forged_button_of_a_scene_that_never_existed_answers_ephemerally(
    harness: Harness,
) -> None:
    await harness.start()
    scene = await start_story(harness)
    for component in scene.buttons():
        component["custom_id"] = component["custom_id"].rsplit(":", 1)[0] + ":987654321"
    calls = image_calls(harness)
    for forged in scene.custom_ids():
        click = await harness.discord.click(scene, forged)
        answer = await click.wait_for_final()
        assert answer is not None, forged
        assert click.ephemeral, forged
        assert "no longer exists" in answer.content
    assert image_calls(harness) == calls
    assert len(harness.discord.messages_in()) == 1


async def test_a_button_of_a_deleted_story_answers_ephemerally(harness: Harness) -> None:
    await harness.start()
    scene = await start_story(harness)
    assert harness.bot is not None
    await harness.bot.services.storage.stories.delete(1)
    calls = image_calls(harness)
    click = await harness.discord.click(scene, custom_id(scene, "regen"))
    answer = await click.wait_for_final()
    assert answer is not None
    assert click.ephemeral
    assert "no longer exists" in answer.content
    assert image_calls(harness) == calls
    assert len(harness.discord.messages_in()) == 1


async def test_a_regenerate_the_provider_declines_keeps_the_picture_and_is_not_counted(
    harness: Harness,
) -> None:
    await harness.start()
    scene = await start_story(harness, user=601)
    before = scene.attachments[0].data
    harness.openai.color = "yellow"
    harness.openai.refuse(GENERATIONS, "Blocked by the safety system: gore.")
    ix = await harness.discord.click(scene, custom_id(scene, "regen"), user=602)
    await ix.wait_for_followups(1, within=10)
    (answer,) = ix.followups
    assert answer.ephemeral
    assert "declined this prompt" in answer.content
    assert "gore" in answer.content
    assert scene.attachments[0].data == before
    assert not scene.loading
    assert len(harness.discord.messages_in()) == 1
    assert (await _my_scenes(harness, 602)).startswith("0 of")


async def test_regenerate_shows_it_is_redrawing_and_a_second_press_costs_nothing(
    harness: Harness,
) -> None:
    await harness.start()
    discord = harness.discord
    scene = await start_story(harness, user=601)
    harness.openai.queue(GENERATIONS, delay=1.0)  # the redraw takes a moment
    not_yet_updated = copy.deepcopy(scene)  # what a second member's client still shows
    first = await discord.click(scene, custom_id(scene, "regen"), user=601)
    shown = discord.message(scene.id)
    assert redrawing(shown), "the message says a new picture is on its way"
    assert all(button.get("disabled") for button in shown.buttons())
    again = await discord.click(not_yet_updated, custom_id(scene, "regen"), user=602)
    assert "already being redrawn" in await refusal_text(again)
    done = await regenerated(harness, scene)
    assert first.ack is not None
    assert done.attachments[0].data == harness.openai.picture
    assert not any(button.get("disabled") for button in done.buttons())
    assert len(harness.openai.requests_to(GENERATIONS)) == 2, "one picture for two presses"
    assert (await _my_scenes(harness, 602)).startswith("0 of"), "the refused press is free"
    assert (await _my_scenes(harness, 601)).startswith("2 of")


async def test_a_failed_regenerate_puts_the_scene_back_as_it_was(harness: Harness) -> None:
    await harness.start()
    discord = harness.discord
    scene = await start_story(harness, user=601)
    before = discord.message(scene.id).embeds[0]
    harness.openai.queue(GENERATIONS, status=400, json={"error": {"message": "bad", "code": None}})
    ix = await discord.click(scene, custom_id(scene, "regen"), user=601)
    await ix.wait_for_followups(1, within=20)
    assert ix.followups[-1].ephemeral
    restored = await regenerated(harness, scene)
    assert restored.embeds[0] == before
    assert restored.attachments[0].data == scene.attachments[0].data
    assert not any(button.get("disabled") for button in restored.buttons())


async def test_a_tier_without_video_shows_no_animate_button_even_after_a_redraw(
    harness: Harness,
) -> None:
    harness.env(DEFAULT_TIER="free")
    await harness.start()
    scene = await start_story(harness)
    labels = [button["label"] for button in scene.buttons()]
    assert labels == ["Regenerate", "Continue"]
    await harness.discord.click(scene, custom_id(scene, "regen"))
    redrawn = await regenerated(harness, scene)
    assert [button["label"] for button in redrawn.buttons()] == ["Regenerate", "Continue"]
    follow = await (
        await harness.discord.click(scene, custom_id(scene, "continue"))
    ).wait_for_final()
    assert follow is not None
    assert [button["label"] for button in follow.buttons()] == ["Regenerate", "Continue"]
