"""Stories, their reference photos and their scenes."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from storage import NotFound, SceneStatus, Storage
from tests.storage.builders import AUTHOR, CHANNEL, GUILD, START, FakeClock, new_scene, new_story


async def test_a_story_round_trips(storage: Storage) -> None:
    story = await new_story(storage)
    assert story.created_at == START
    assert (story.guild_id, story.channel_id, story.author_id) == (GUILD, CHANNEL, AUTHOR)
    assert await storage.stories.get(story.id) == story
    assert await storage.stories.get(story.id + 1) is None


async def test_latest_story_is_per_member_and_channel(storage: Storage) -> None:
    await new_story(storage)
    latest = await new_story(storage)
    await new_story(storage, author_id=AUTHOR + 1)
    await new_story(storage, channel_id=CHANNEL + 1)
    found = await storage.stories.latest_for_member(
        guild_id=GUILD, channel_id=CHANNEL, author_id=AUTHOR
    )
    assert found == latest
    nobody = await storage.stories.latest_for_member(
        guild_id=GUILD, channel_id=CHANNEL, author_id=999
    )
    assert nobody is None


async def test_a_guilds_stories_are_found_by_a_part_of_their_title(storage: Storage) -> None:
    fox = await new_story(storage)  # "The Flying Fox"
    odd = await storage.stories.create(
        guild_id=GUILD, channel_id=CHANNEL, author_id=AUTHOR, premise="p",
        title="100% of_the \\ fox", model_key="m", video_mode=False,
    )  # fmt: skip
    await storage.stories.create(
        guild_id=GUILD + 1, channel_id=CHANNEL, author_id=AUTHOR, premise="p",
        title="The Flying Fox", model_key="m", video_mode=False,
    )  # fmt: skip
    assert await storage.stories.in_guild(GUILD, "FLYING") == [fox]
    assert await storage.stories.in_guild(GUILD, "fox") == [odd, fox]  # newest first
    assert await storage.stories.in_guild(GUILD, "0% of_") == [odd]  # typed literally
    assert await storage.stories.in_guild(GUILD, "_") == [odd]
    assert await storage.stories.in_guild(GUILD, "\\") == [odd]
    assert await storage.stories.in_guild(GUILD, "%") == [odd]
    assert await storage.stories.in_guild(GUILD, "", limit=1) == [odd]


async def test_a_members_stories_are_digested_newest_first_with_their_progress(
    storage: Storage, clock: FakeClock
) -> None:
    empty = await new_story(storage)
    told = await new_story(storage)
    await new_story(storage, author_id=AUTHOR + 1)  # someone else's
    first = await new_scene(storage, told)
    await storage.scenes.record_image(first.id, "gemini")
    await storage.scenes.set_message(first.id, channel_id=CHANNEL, message_id=501)
    clock.advance(hours=2)
    second = await new_scene(storage, told)
    await storage.scenes.record_image(second.id, "gemini")
    await storage.scenes.set_message(second.id, channel_id=CHANNEL + 1, message_id=502)
    clock.advance(hours=1)
    failed = await new_scene(storage, told)
    await storage.scenes.mark_failed(failed.id, "declined")  # never shown, never counted
    newest, oldest = await storage.stories.digests(GUILD, AUTHOR)
    assert (newest.story, oldest.story) == (told, empty)
    assert (newest.told_scenes, oldest.told_scenes) == (2, 0)
    assert newest.last_activity == clock.now
    assert oldest.last_activity == empty.created_at
    assert (newest.latest_channel_id, newest.latest_message_id) == (CHANNEL + 1, 502)
    assert (oldest.latest_channel_id, oldest.latest_message_id) == (None, None)
    assert await storage.stories.digests(GUILD + 1, AUTHOR) == []


async def test_reference_photos_come_back_in_attachment_order(storage: Storage) -> None:
    story = await new_story(storage)
    await storage.add_reference_photo(story.id, 1, b"jpeg", "image/jpeg")
    first = await storage.add_reference_photo(story.id, 0, b"png!", "image/png")
    refs = await storage.stories.references(story.id)
    assert [(r.position, r.file_name, r.size_bytes) for r in refs] == [
        (0, "0.png", 4),
        (1, "1.jpg", 4),
    ]
    assert refs[0] == first
    assert await storage.media.read_reference(story.id, "1.jpg") == b"jpeg"


async def test_scenes_are_numbered_in_order_per_story(storage: Storage, clock: FakeClock) -> None:
    story, other = await new_story(storage), await new_story(storage)
    first = await new_scene(storage, story)
    clock.advance(minutes=1)
    await new_scene(storage, other)
    second = await storage.scenes.create(
        story_id=story.id, text="Then", model_key="gemini", channel_id=CHANNEL, direction="fly"
    )
    assert [s.number for s in await storage.scenes.list_for_story(story.id)] == [1, 2]
    assert await storage.scenes.list_for_story(story.id) == [first, second]
    assert (second.direction, second.model_key, second.created_at) == ("fly", "gemini", clock.now)
    assert (first.status, first.image_version, first.message_id) == (SceneStatus.PENDING, 0, None)


async def test_a_scene_of_a_missing_story_is_refused(storage: Storage) -> None:
    with pytest.raises(NotFound):
        await storage.scenes.create(story_id=404, text="x", model_key="m", channel_id=1)


async def test_each_new_image_bumps_the_scene_image_version(storage: Storage) -> None:
    scene = await new_scene(storage)
    drawn = await storage.scenes.record_image(scene.id, "gpt-image-1.5")
    assert (drawn.status, drawn.image_version, drawn.model_key) == ("ready", 1, "gpt-image-1.5")
    redrawn = await storage.scenes.record_image(scene.id, "gpt-image-1.5")
    assert redrawn.image_version == 2
    assert await storage.scenes.get(scene.id) == redrawn


async def test_a_failed_generation_is_recorded_with_its_reason(storage: Storage) -> None:
    scene = await new_scene(storage)
    failed = await storage.scenes.mark_failed(scene.id, "provider timeout")
    assert (failed.status, failed.failure_reason) == (SceneStatus.FAILED, "provider timeout")
    recovered = await storage.scenes.record_image(scene.id, "gemini")
    assert (recovered.status, recovered.failure_reason) == (SceneStatus.READY, None)


async def test_the_posted_message_is_remembered(storage: Storage) -> None:
    scene = await new_scene(storage)
    posted = await storage.scenes.set_message(scene.id, channel_id=CHANNEL, message_id=555)
    assert posted == replace(scene, message_id=555)
    assert await storage.scenes.get(scene.id) == posted


async def test_updating_a_missing_scene_raises_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound):
        await storage.scenes.record_image(404, "gemini")


async def test_two_writers_appending_scenes_never_share_a_number(
    storage: Storage, second_storage: Storage
) -> None:
    story = await new_story(storage)
    writers = [s for _ in range(25) for s in (storage, second_storage)]
    await asyncio.gather(*(new_scene(writer, story) for writer in writers))
    scenes = await storage.scenes.list_for_story(story.id)
    assert [s.number for s in scenes] == list(range(1, 51))


async def test_deleting_a_story_removes_its_rows_and_files(storage: Storage) -> None:
    story, kept = await new_story(storage), await new_story(storage)
    scene, kept_scene = await new_scene(storage, story), await new_scene(storage, kept)
    await storage.jobs.create(
        scene_id=scene.id, guild_id=GUILD, channel_id=CHANNEL, message_id=1, image_version=1
    )
    await storage.add_reference_photo(story.id, 0, b"png", "image/png")
    await storage.media.save_image(scene.id, b"png")
    await storage.media.save_video(scene.id, b"mp4")
    await storage.media.save_film(story.id, b"film")
    await storage.media.save_image(kept_scene.id, b"kept")

    await storage.delete_story(story.id)

    assert await storage.stories.get(story.id) is None
    assert await storage.scenes.get(scene.id) is None
    assert await storage.jobs.for_scene(scene.id) is None
    assert await storage.stories.references(story.id) == []
    assert await storage.media.read_image(scene.id) is None
    assert await storage.media.read_video(scene.id) is None
    assert await storage.media.read_film(story.id) is None
    with pytest.raises(FileNotFoundError):
        await storage.media.read_reference(story.id, "0.png")
    assert not storage.media.reference_dir(story.id).exists()
    assert await storage.media.read_image(kept_scene.id) == b"kept"
    assert await storage.scenes.get(kept_scene.id) is not None


async def test_deleting_a_missing_story_raises_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound):
        await storage.delete_story(404)


async def test_told_numbers_are_given_in_drawing_order_gap_free_and_kept(storage: Storage) -> None:
    """The number members see is stored when a scene is first drawn: a scene whose drawing
    failed takes none, scenes drawn at the same instant take their own, a redraw keeps it."""
    story = await new_story(storage)
    first, failed, *racing = [await new_scene(storage, story) for _ in range(5)]
    assert first.told_number is None
    assert (await storage.scenes.record_image(first.id, "gemini")).told_number == 1
    await storage.scenes.mark_failed(failed.id, "declined")
    drawn = await asyncio.gather(*(storage.scenes.record_image(s.id, "gemini") for s in racing))
    assert sorted(s.told_number for s in drawn) == [2, 3, 4]
    assert (await storage.scenes.record_image(first.id, "gemini")).told_number == 1
    assert (await storage.scenes.get(failed.id)).told_number is None  # type: ignore[union-attr]
