"""The storybook from storage, without Discord: which story, its told scenes with their pictures
and videos, the self-contained page and the film; and the outline the web server renders.

Pictures and videos are read only through `storage.media`, so any storage backend serves them.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from dataclasses import dataclass

from bot.book.film import Clip, Film, join_clips
from bot.book.links import Links
from bot.book.page import EmbeddedPage, SceneMedia, embedded_page
from bot.book.problems import EmptyStory, NoStoryHere, UnknownStory
from bot.scene_card import model_display
from bot.services import Actor, told
from providers.registry import Catalog
from storage import JobState, Scene, Storage, Story

STORY_CHOICES = 25  # Discord's autocomplete maximum
MAX_ROW_ID = 2**63 - 1  # a larger id fits neither SQLite's INTEGER nor PostgreSQL's bigint
_ROW_ID = re.compile(r"[0-9]{1,19}")  # ASCII: isdigit() passes "²", which int() refuses
FILMS_REMEMBERED = 2  # joined films kept in memory for the web server (each up to tens of MB)


@dataclass(frozen=True, slots=True)
class OutlineScene:
    scene_id: int
    number: int
    text: str
    model: str
    video_job: int | None  # the finished job whose video shows the current picture

    @property
    def animated(self) -> bool:
        return self.video_job is not None


@dataclass(frozen=True, slots=True)
class Outline:
    """A story's told scenes in order, without their bytes."""

    story: Story
    scenes: tuple[OutlineScene, ...]


@dataclass(frozen=True, slots=True)
class Storybook:
    """What `/story book` answers with."""

    title: str
    scenes: int
    page: EmbeddedPage
    film: Film | None
    film_fits: bool
    animated: int
    link: str | None


class StorybookService:
    def __init__(self, storage: Storage, catalog: Catalog, links: Links | None = None) -> None:
        self.storage = storage
        self.catalog = catalog
        self.links = links
        self._films: OrderedDict[tuple[int, tuple[int | None, ...]], Film | None] = OrderedDict()

    async def stories(self, guild_id: int, typed: str) -> list[Story]:
        """This server's stories whose title contains what was typed, newest first."""
        return await self.storage.stories.in_guild(guild_id, typed.strip(), STORY_CHOICES)

    async def choose(self, actor: Actor, story: str | None) -> Story:
        """The named story of this server, or the member's latest in this channel."""
        if story is None:
            found = await self.storage.stories.latest_for_member(
                guild_id=actor.guild_id, channel_id=actor.channel_id, author_id=actor.member_id
            )
            if found is None:
                raise NoStoryHere
            return found
        story_id = _row_id(story.strip())
        found = await self.storage.stories.get(story_id) if story_id is not None else None
        if found is None or found.guild_id != actor.guild_id:
            raise UnknownStory
        return found

    async def outline(self, guild_id: int, story_id: int) -> Outline | None:
        """The story's outline if it belongs to this guild and has a told scene, else None."""
        story = await self.storage.stories.get(story_id)
        if story is None or story.guild_id != guild_id:
            return None
        outline = await self._outline(story)
        return outline if outline.scenes else None

    async def _outline(self, story: Story) -> Outline:
        scenes = told(await self.storage.scenes.list_for_story(story.id))
        entries = [
            OutlineScene(
                scene.id,
                scene.told_number or 0,  # told() keeps numbered scenes only
                scene.text,
                model_display(self.catalog, scene.model_key),
                await self._video_job(scene),
            )
            for scene in scenes
        ]
        return Outline(story, tuple(entries))

    async def _video_job(self, scene: Scene) -> int | None:
        """Its latest video job, if it finished with a video of the picture it shows now."""
        job = await self.storage.jobs.for_scene(scene.id)
        if job is None or job.state is not JobState.DONE:
            return None
        return job.id if job.image_version == scene.image_version else None

    async def make(self, story: Story, upload_limit: int) -> Storybook:
        """The page (within `upload_limit`) and the film (kept in storage whatever its size)."""
        outline = await self._outline(story)
        if not outline.scenes:
            raise EmptyStory
        media = [await self._media(entry) for entry in outline.scenes]
        film = await self.film(media)
        if film is not None:
            await self.storage.media.save_film(story.id, film.mp4)
        fits = film is not None and len(film.mp4) <= upload_limit
        link = self.links.page(story.guild_id, story.id) if self.links else None
        page = await asyncio.to_thread(
            embedded_page, story.title, media, upload_limit, link=link, film_attached=fits
        )
        animated = sum(1 for m in media if m.video is not None)
        return Storybook(story.title, len(media), page, film, fits, animated, link)

    async def _media(self, entry: OutlineScene) -> SceneMedia:
        media = self.storage.media
        video = await media.read_video(entry.scene_id) if entry.animated else None
        picture = await media.read_image(entry.scene_id)
        return SceneMedia(entry.number, entry.text, entry.model, picture, video)

    async def film(self, media: list[SceneMedia]) -> Film | None:
        """The animated scenes' videos joined in scene order, or None without any."""
        clips = [Clip(m.number, m.video) for m in media if m.video is not None]
        return await asyncio.to_thread(join_clips, clips) if clips else None

    async def film_of(self, outline: Outline) -> Film | None:
        """The film of an outline's animated scenes (the web server's film route); the last
        few are remembered, since a player asks for a film in several ranges."""
        key = (outline.story.id, tuple(entry.video_job for entry in outline.scenes))
        if key in self._films:
            self._films.move_to_end(key)
            return self._films[key]
        media = [await self._media(entry) for entry in outline.scenes if entry.animated]
        film = await self.film(media)
        self._films[key] = film
        while len(self._films) > FILMS_REMEMBERED:
            self._films.popitem(last=False)
        return film

    async def scene_media(
        self, guild_id: int, story_id: int, scene_id: int, kind: str
    ) -> bytes | None:
        """A told scene's picture or video, only if the scene is in this guild's story."""
        outline = await self.outline(guild_id, story_id)
        scenes = outline.scenes if outline is not None else ()
        entry = next((s for s in scenes if s.scene_id == scene_id), None)
        if entry is None:
            return None
        if kind == "picture":
            return await self.storage.media.read_image(scene_id)
        return await self.storage.media.read_video(scene_id) if entry.animated else None


def _row_id(typed: str) -> int | None:
    """The story id a member typed or picked, or None when it cannot be one."""
    if _ROW_ID.fullmatch(typed) is None or int(typed) > MAX_ROW_ID:
        return None
    return int(typed)
