"""Building the storybook from storage (real SQLite files): which story, the page, the film."""

from __future__ import annotations

import io
import re

import av
import pytest

from bot.book.problems import EmptyStory, NoStoryHere, UnknownStory
from bot.book.service import StorybookService
from bot.services import Actor
from storage import Storage
from tests.bot.book.builders import AUTHOR, CHANNEL, GUILD, OTHER_GUILD, animate, told_story
from tests.fakes.scene_art import scene_film, scene_picture

TEXTS = ["The fox climbs the lighthouse.", "The sea sings back.", "The whale offers a ride."]
ROOMY = 10 * 1024 * 1024
ME = Actor(GUILD, CHANNEL, AUTHOR)


async def test_the_default_is_the_members_latest_story_in_this_channel(
    storage: Storage, books: StorybookService
) -> None:
    await told_story(storage, TEXTS, title="First")
    latest = await told_story(storage, TEXTS, title="Second")
    await told_story(storage, TEXTS, title="Elsewhere", guild_id=OTHER_GUILD)
    assert (await books.choose(ME, None)).id == latest.id
    with pytest.raises(NoStoryHere):
        await books.choose(Actor(GUILD, CHANNEL + 1, AUTHOR), None)


async def test_a_story_of_another_server_is_never_listed_nor_chosen(
    storage: Storage, books: StorybookService
) -> None:
    mine = await told_story(storage, TEXTS, title="The Fox Sails")
    theirs = await told_story(storage, TEXTS, title="The Fox Flies", guild_id=OTHER_GUILD)
    assert [s.id for s in await books.stories(GUILD, "fox")] == [mine.id]
    assert [s.id for s in await books.stories(GUILD, "SAILS")] == [mine.id]
    assert await books.stories(GUILD, "flies") == []
    assert await books.stories(GUILD, "%") == []  # typed text matches literally
    assert (await books.choose(ME, str(mine.id))).id == mine.id
    for named in (str(theirs.id), "999999", "the fox", ""):
        with pytest.raises(UnknownStory):
            await books.choose(ME, named)


@pytest.mark.parametrize("typed", ["²", "٣", "99999999999999999999", "1" * 5000, "-1", "+1"])
async def test_a_typed_story_that_is_no_row_id_is_unknown_not_an_error(
    storage: Storage, books: StorybookService, typed: str
) -> None:
    """The option takes free text: digits Python reads but SQLite or PostgreSQL cannot hold (a
    superscript, another script's digits, past 64 bits) get the member's answer, not an incident."""
    await told_story(storage, TEXTS)
    with pytest.raises(UnknownStory):
        await books.choose(ME, typed)


async def test_the_book_holds_the_page_and_the_film_of_the_animated_scenes_in_order(
    storage: Storage, books: StorybookService
) -> None:
    story = await told_story(storage, TEXTS, animated=(1, 3))
    book = await books.make(story, ROOMY)
    assert book.scenes == 3
    assert book.animated == 2
    html = book.page.html.decode()
    assert [int(n) for n in re.findall(r"<h2>Scene (\d+)</h2>", html)] == [1, 2, 3]
    assert all(text in html for text in TEXTS)
    assert book.film is not None
    assert book.film.numbers == (1, 3)
    assert book.film_fits
    with av.open(io.BytesIO(book.film.mp4), "r") as film:
        assert film.streams.video[0].codec_context.name == "h264"
    assert book.link is not None
    assert f"/book/{GUILD}/{story.id}/" in book.link
    assert book.link in html


async def test_a_film_over_the_upload_limit_is_kept_not_attached(
    storage: Storage, books: StorybookService
) -> None:
    story = await told_story(storage, TEXTS, animated=(1, 2, 3), side=96)
    whole = await books.make(story, ROOMY)
    assert whole.film is not None
    limit = len(whole.film.mp4) - 1
    book = await books.make(story, limit)
    assert book.film is not None
    assert not book.film_fits
    assert len(book.page.html) <= limit
    assert await storage.media.read_film(story.id) == book.film.mp4


async def test_without_an_animated_scene_there_is_no_film(
    storage: Storage, books: StorybookService
) -> None:
    story = await told_story(storage, TEXTS)
    book = await books.make(story, ROOMY)
    assert book.film is None
    assert book.animated == 0
    assert await storage.media.read_film(story.id) is None


async def test_a_regenerated_picture_drops_its_old_video_from_the_book(
    storage: Storage, books: StorybookService
) -> None:
    story = await told_story(storage, TEXTS, animated=(1, 2))
    first = (await storage.scenes.list_for_story(story.id))[0]
    await storage.scenes.record_image(first.id, "gpt-image-2")  # a new picture, no video yet
    book = await books.make(story, ROOMY)
    assert book.film is not None
    assert book.film.numbers == (2,)


async def test_a_story_whose_only_scene_never_got_its_picture_is_empty(
    storage: Storage, books: StorybookService
) -> None:
    story = await told_story(storage, TEXTS[:1])
    empty = await storage.stories.create(
        guild_id=GUILD,
        channel_id=CHANNEL,
        author_id=AUTHOR,
        premise="p",
        title="Nothing yet",
        model_key="gpt-image-2",
        video_mode=False,
    )
    await storage.scenes.create(
        story_id=empty.id, text="t", model_key="gpt-image-2", channel_id=CHANNEL
    )
    with pytest.raises(EmptyStory):
        await books.make(empty, ROOMY)
    assert (await books.make(story, ROOMY)).scenes == 1


async def test_the_web_film_is_joined_once_and_again_when_a_scene_is_animated(
    storage: Storage, books: StorybookService
) -> None:
    story = await told_story(storage, TEXTS, animated=(1,))
    outline = await books.outline(GUILD, story.id)
    assert outline is not None
    first = await books.film_of(outline)
    assert first is not None
    assert first.numbers == (1,)
    assert await books.film_of(outline) is first  # a player's next range: no new join
    third = (await storage.scenes.list_for_story(story.id))[2]
    await animate(storage, third.id, scene_film(scene_picture(third.text)))
    now = await books.outline(GUILD, story.id)
    assert now is not None
    film = await books.film_of(now)
    assert film is not None
    assert film.numbers == (1, 3)
