"""/story start and /story continue end to end: models, reference photos, refusals, failures
(SPEC §5, §6, §7, §10)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from tests.e2e.harness import Harness
from tests.e2e.helpers import (
    PREMISE,
    embed_fields,
    error_after_deferral,
    first_provider_call_at,
    image_calls,
    message_bodies,
    no_public_messages,
    provider_calls,
    refusal_text,
    start_story,
    tiny_tier,
    write_tiers,
)
from tests.fakes.discord import MANAGER_PERMISSIONS, StoredMessage, Upload
from tests.fakes.openai_api import CHAT, EDITS, GENERATIONS
from tests.fakes.pictures import png

RED, GREEN = png((16, 16), "red"), png((16, 16), "green")
PHOTOS = {"reference": Upload(RED, "cat.png"), "reference2": Upload(GREEN, "dog.png")}
NOV_30 = datetime(2026, 11, 30, 12, tzinfo=UTC)  # gpt-image-1-mini and 1.5 still served


@pytest.fixture(autouse=True)
def on_30_november(harness: Harness) -> None:
    harness.now = NOV_30


def _scene_ok(message: StoredMessage) -> None:
    """The scene message: an embed, the picture as scene.png and the three buttons."""
    assert message.embeds[0]["author"]["name"] == "Scene 1"
    assert message.filenames == ["scene.png"]
    assert [b["label"] for b in message.buttons()] == ["Regenerate", "Animate", "Continue"]


# -- models and reference photos ------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "api_model", "display"),
    [
        ("gpt-image-1-mini", "gpt-image-1-mini", "GPT Image 1 Mini"),
        ("gpt-image-1.5", "gpt-image-1.5", "GPT Image 1.5"),
        ("gpt-image-2", "gpt-image-2", "GPT Image 2"),
    ],
)
async def test_openai_models_receive_the_reference_photos_and_post_a_scene(
    harness: Harness, model: str, api_model: str, display: str
) -> None:
    await harness.start()
    message = await start_story(harness, options={"model": model}, attachments=PHOTOS)
    (edit,) = harness.openai.requests_to(EDITS)
    assert edit.fields["model"] == api_model
    assert [part.data for part in edit.images] == [RED, GREEN]
    assert not harness.xai.requests
    assert not harness.gemini.requests
    _scene_ok(message)
    assert display in message.embeds[0]["footer"]["text"]
    assert message.attachments[0].data == harness.openai.picture


async def test_grok_imagine_receives_the_reference_photos_as_json_data_uris(
    harness: Harness,
) -> None:
    await harness.start()
    message = await start_story(harness, options={"model": "grok-imagine"}, attachments=PHOTOS)
    (edit,) = [r for r in harness.xai.requests if r.path.endswith("/images/edits")]
    assert edit.content_type.startswith("application/json")
    assert edit.fields["model"] == "grok-imagine-image"
    assert [image.data for image in edit.images] == [RED, GREEN]
    assert image_calls(harness) == 1  # nothing went to OpenAI or Google
    _scene_ok(message)
    assert "Grok Imagine" in message.embeds[0]["footer"]["text"]
    assert message.attachments[0].data == harness.xai.picture


async def test_gemini_receives_the_reference_photos_as_image_parts(harness: Harness) -> None:
    await harness.start()
    message = await start_story(harness, options={"model": "gemini"}, attachments=PHOTOS)
    (call,) = harness.gemini.requests
    assert call.model == "gemini-3.1-flash-image"
    assert [part.data for part in call.images] == [RED, GREEN]
    assert call.texts, "the prompt travels next to the photos"
    assert image_calls(harness) == 1
    _scene_ok(message)
    assert "Gemini Flash Image" in message.embeds[0]["footer"]["text"]
    assert message.attachments[0].data == harness.gemini.picture


async def test_a_typed_retired_model_is_drawn_by_its_successor_and_the_scene_says_so(
    harness: Harness,
) -> None:
    await harness.start()
    message = await start_story(harness, options={"model": "gpt-image-1"})
    (call,) = harness.openai.requests_to(GENERATIONS)
    assert call.fields["model"] == "gpt-image-2"
    assert message.embeds[0]["footer"]["text"] == (
        "GPT Image 1 was retired on 23 Oct 2026; drawn with GPT Image 2"
    )


async def test_the_guild_default_model_draws_when_the_member_names_none(harness: Harness) -> None:
    await harness.start()
    ix = await harness.discord.slash(
        "settings", "model", options={"model": "gemini"}, permissions=MANAGER_PERMISSIONS
    )
    await ix.wait_for_final()
    message = await start_story(harness)
    assert len(harness.gemini.requests) == 1
    assert not harness.openai.requests_to(GENERATIONS) + harness.openai.requests_to(EDITS)
    assert "Gemini" in message.embeds[0]["footer"]["text"]


async def test_the_deferral_comes_before_any_provider_request(harness: Harness) -> None:
    await harness.start()
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE})
    await ix.wait_for_final()
    assert ix.deferred
    assert ix.ack is not None
    assert ix.ack_latency is not None
    assert ix.ack.at < first_provider_call_at(harness)


# -- refusals: ephemeral, nothing public, no provider call ------------------------------------


async def test_an_unknown_model_is_refused_with_the_allowed_models_listed(
    harness: Harness,
) -> None:
    harness.env(DEFAULT_TIER="free")
    await harness.start()
    ix = await harness.discord.slash(
        "story", "start", options={"premise": PREMISE, "model": "dall-e-9"}
    )
    text = await refusal_text(ix)
    assert "dall-e-9" in text
    assert "Allowed: `gpt-image-2`, `grok-imagine`." in text
    assert no_public_messages(harness)
    assert provider_calls(harness) == 0


async def test_a_model_the_tier_does_not_allow_is_refused(harness: Harness) -> None:
    harness.env(DEFAULT_TIER="free")
    await harness.start()
    ix = await harness.discord.slash(
        "story", "start", options={"premise": PREMISE, "model": "gemini"}
    )
    text = await refusal_text(ix)
    assert "not a model this server may use" in text
    assert "`gpt-image-2`" in text
    assert "gemini`" not in text.split("Allowed:")[1]
    assert no_public_messages(harness)
    assert provider_calls(harness) == 0


async def test_more_photos_than_the_tier_allows_are_refused(harness: Harness) -> None:
    harness.env(DEFAULT_TIER="free")  # one reference photo
    await harness.start()
    ix = await harness.discord.slash(
        "story", "start", options={"premise": PREMISE}, attachments=PHOTOS
    )
    text = await refusal_text(ix)
    assert "Too many reference photos" in text
    assert "allow 1" in text
    assert "attached 2" in text
    assert no_public_messages(harness)
    assert provider_calls(harness) == 0


async def test_a_non_image_attachment_is_refused_by_name(harness: Harness) -> None:
    await harness.start()
    notes = Upload(b"just some notes", "notes.txt", "text/plain")
    ix = await harness.discord.slash(
        "story", "start", options={"premise": PREMISE}, attachments={"reference": notes}
    )
    text = await refusal_text(ix)
    assert "notes.txt" in text
    assert "not a PNG, JPEG or WebP" in text
    assert no_public_messages(harness)
    assert provider_calls(harness) == 0


async def test_an_attachment_over_20_mib_is_refused_before_download(harness: Harness) -> None:
    await harness.start()
    huge = Upload(RED + bytes(20 * 1024 * 1024), "huge.png", "image/png")
    ix = await harness.discord.slash(
        "story", "start", options={"premise": PREMISE}, attachments={"reference": huge}
    )
    text = await refusal_text(ix)
    assert "huge.png" in text
    assert "20 MiB" in text
    assert not harness.discord.requests_to("GET", r"/(ephemeral-)?attachments/.*")
    assert no_public_messages(harness)
    assert provider_calls(harness) == 0


async def test_a_file_posing_as_png_ends_ephemeral_with_nothing_public(harness: Harness) -> None:
    await harness.start()
    fake = Upload(b"this is no picture at all", "fake.png", "image/png")
    ix = await harness.discord.slash(
        "story", "start", options={"premise": PREMISE}, attachments={"reference": fake}
    )
    text = await error_after_deferral(harness, ix)
    assert "fake.png" in text
    assert "can't be used" in text
    assert no_public_messages(harness)
    assert provider_calls(harness) == 0
    assert (await _usage_scenes(harness)).startswith("0 of")


async def test_a_member_over_their_daily_quota_is_refused_with_the_reset(
    harness: Harness,
) -> None:
    tiers = write_tiers(
        harness.data_dir.parent / "tiers.toml", tiny=tiny_tier(member_scenes_per_day=1)
    )
    harness.env(TIERS_FILE=str(tiers), DEFAULT_TIER="tiny")
    await harness.start()
    await start_story(harness, user=501)
    calls = provider_calls(harness)
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE}, user=501)
    text = await refusal_text(ix)
    assert "You have used the 1 scene allowed today; the quota resets <t:" in text
    assert "resets" in text
    assert provider_calls(harness) == calls
    assert len(harness.discord.messages_in()) == 1


async def test_a_guild_over_its_daily_quota_is_refused_with_the_reset(harness: Harness) -> None:
    tiers = write_tiers(
        harness.data_dir.parent / "tiers.toml",
        tiny=tiny_tier(scenes_per_day=2, member_scenes_per_day=5),
    )
    harness.env(TIERS_FILE=str(tiers), DEFAULT_TIER="tiny")
    await harness.start()
    await start_story(harness, user=501)
    await start_story(harness, user=502)
    calls = provider_calls(harness)
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE}, user=503)
    text = await refusal_text(ix)
    assert "This server has used all 2 scenes" in text
    assert "resets" in text
    assert provider_calls(harness) == calls
    assert len(harness.discord.messages_in()) == 2


async def test_a_model_whose_key_is_missing_is_unavailable_everywhere(harness: Harness) -> None:
    harness.monkeypatch.delenv("GEMINI_API_KEY")
    await harness.start()
    discord = harness.discord
    choices = await discord.autocomplete("story", "start", focused="model", value="")
    assert "gemini" not in [choice["value"] for choice in choices]
    assert await discord.autocomplete("story", "start", focused="model", value="gem") == []
    models = await discord.slash("models")
    listing = await models.wait_for_final()
    assert listing is not None
    assert "Gemini" not in listing.embeds[0]["description"]
    ix = await discord.slash("story", "start", options={"premise": PREMISE, "model": "gemini"})
    assert "unavailable on this bot" in await refusal_text(ix)
    default = await discord.slash(
        "settings", "model", options={"model": "gemini"}, permissions=MANAGER_PERMISSIONS
    )
    assert "unavailable on this bot" in await refusal_text(default)
    assert no_public_messages(harness)
    assert provider_calls(harness) == 0


# -- provider failures after the deferral ------------------------------------------------------


async def _usage_scenes(harness: Harness) -> str:
    ix = await harness.discord.slash("usage")
    message = await ix.wait_for_final()
    assert message is not None
    return embed_fields(message)["Scenes (server)"]


async def test_a_content_refusal_ends_in_declined_with_the_reason_and_is_not_counted(
    harness: Harness,
) -> None:
    await harness.start()
    harness.openai.refuse(GENERATIONS, "Blocked by the safety system: violence.")
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE})
    text = await error_after_deferral(harness, ix)
    assert "declined this prompt" in text
    assert "violence" in text
    assert no_public_messages(harness)
    assert (await _usage_scenes(harness)).startswith("0 of")


async def test_a_provider_failing_with_5xx_forever_ends_in_busy_and_is_not_counted(
    harness: Harness,
) -> None:
    await harness.start()
    harness.openai.always(GENERATIONS, status=503, headers={"retry-after-ms": "1"})
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE})
    text = await error_after_deferral(harness, ix)
    assert "busy" in text
    assert len(harness.openai.requests_to(GENERATIONS)) > 1, "a 5xx is retried"
    assert no_public_messages(harness)
    assert (await _usage_scenes(harness)).startswith("0 of")


async def test_a_provider_timeout_ends_in_a_clear_error_and_is_not_counted(
    harness: Harness,
) -> None:
    harness.monkeypatch.setattr("bot.wiring.IMAGE_TIMEOUT", 0.2)  # so the test need not wait
    await harness.start()
    harness.gemini.delay(5, times=None)
    ix = await harness.discord.slash(
        "story", "start", options={"premise": PREMISE, "model": "gemini"}
    )
    text = await error_after_deferral(harness, ix)
    assert "took too long" in text or "unreachable" in text
    assert no_public_messages(harness)
    assert (await _usage_scenes(harness)).startswith("0 of")
    assert harness.bot is not None
    scenes = await harness.bot.services.storage.scenes.list_for_story(1)
    assert scenes
    assert scenes[-1].failure_reason


# -- mentions -----------------------------------------------------------------------------------


async def test_no_message_the_bot_sends_can_ping_anyone(harness: Harness) -> None:
    await harness.start()
    victim = harness.discord.add_user("victim")
    harness.openai.scene_text = f"@everyone look, <@{victim.id}> and @here!"
    premise = f"@everyone and <@{victim.id}> meet a dragon"
    message = await start_story(harness, premise)
    follow = await harness.discord.click(message, message.custom_ids()[2])  # Continue
    assert await follow.wait_for_final() is not None
    refused = await harness.discord.slash(
        "story", "start", options={"premise": premise, "model": f"<@{victim.id}> @everyone"}
    )
    await refused.wait_for_final()
    bodies = message_bodies(harness)
    assert len(bodies) >= 3
    for body in bodies:
        mentions = body.get("allowed_mentions")
        assert mentions is not None, f"no allowed_mentions in {body}"
        assert mentions.get("parse") == []
        assert not mentions.get("users")
        assert not mentions.get("roles")
        assert not mentions.get("replied_user")


# -- /story continue --------------------------------------------------------------------------


async def test_continue_writes_the_next_scene_from_the_earlier_ones_and_the_direction(
    harness: Harness,
) -> None:
    await harness.start()
    harness.openai.scene_text = "Scene one: the fox picks up a brass key."
    await start_story(harness)
    harness.openai.scene_text = "Scene two: the key opens the lighthouse."
    ix = await harness.discord.slash(
        "story", "continue", options={"direction": "the fox climbs the lighthouse"}
    )
    message = await ix.wait_for_final()
    assert message is not None
    embed = message.embeds[0]
    assert embed["author"]["name"] == "Scene 2"
    assert embed["description"] == "Scene two: the key opens the lighthouse."
    chat = json.dumps(harness.openai.requests_to(CHAT)[-1].fields["messages"])
    assert "Scene one: the fox picks up a brass key." in chat
    assert "the fox climbs the lighthouse" in chat
    assert len(harness.discord.messages_in()) == 2


async def test_continue_without_a_story_gets_an_ephemeral_hint(harness: Harness) -> None:
    await harness.start()
    ix = await harness.discord.slash("story", "continue", options={"direction": "onward"})
    assert "/story start" in await refusal_text(ix)
    assert no_public_messages(harness)
    assert provider_calls(harness) == 0


async def test_a_failed_scene_does_not_use_up_a_scene_number_or_the_writers_context(
    harness: Harness,
) -> None:
    await harness.start()
    harness.openai.scene_text = "Scene one: the fox picks up a brass key."
    await start_story(harness)
    harness.openai.scene_text = "A scene that was never drawn."
    harness.openai.refuse(EDITS)  # with the previous scene's picture for continuity
    failed = await harness.discord.slash("story", "continue", options={"direction": "fight"})
    assert "declined" in await error_after_deferral(harness, failed)
    harness.openai.scene_text = "Scene two: the key opens the lighthouse."
    ix = await harness.discord.slash("story", "continue", options={"direction": "climb"})
    message = await ix.wait_for_final()
    assert message is not None
    assert message.embeds[0]["author"]["name"] == "Scene 2"
    chat = json.dumps(harness.openai.requests_to(CHAT)[-1].fields["messages"])
    assert "Scene one" in chat
    assert "never drawn" not in chat


async def test_continue_after_a_start_that_failed_does_not_continue_an_unseen_story(
    harness: Harness,
) -> None:
    await harness.start()
    harness.openai.refuse(GENERATIONS)
    failed = await harness.discord.slash("story", "start", options={"premise": "Forbidden"})
    await error_after_deferral(harness, failed)
    calls = provider_calls(harness)
    ix = await harness.discord.slash("story", "continue")
    assert "/story start" in await refusal_text(ix)
    assert provider_calls(harness) == calls
    assert no_public_messages(harness)


async def test_two_continues_at_the_same_instant_each_show_the_number_stored(
    harness: Harness,
) -> None:
    """A member who sends /story continue twice at once gets Scene 2 and Scene 3 (not two
    Scene 2s); the next is Scene 4, and a scene whose drawing failed takes no number."""
    await harness.start()
    await start_story(harness)
    harness.openai.latency = 0.2  # both continues are in flight together
    first, second = await asyncio.gather(
        harness.discord.slash("story", "continue", options={"direction": "left"}),
        harness.discord.slash("story", "continue", options={"direction": "right"}),
    )
    both = [await first.wait_for_final(), await second.wait_for_final()]
    assert sorted(m.embeds[0]["author"]["name"] for m in both if m) == ["Scene 2", "Scene 3"]
    harness.openai.latency = 0.0
    harness.openai.refuse(EDITS)
    failed = await harness.discord.slash("story", "continue")
    assert "declined" in await error_after_deferral(harness, failed)
    ix = await harness.discord.slash("story", "continue")
    message = await ix.wait_for_final()
    assert message is not None
    assert message.embeds[0]["author"]["name"] == "Scene 4"
