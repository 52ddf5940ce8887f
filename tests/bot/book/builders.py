"""Stories with told scenes, real pictures and real H.264 videos, written through `Storage`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import aiohttp

from bot.book.links import Links
from bot.book.web import BookServer
from storage import Storage, Story
from tests.fakes.scene_art import scene_film, scene_picture

GUILD = 1001
OTHER_GUILD = 1002
CHANNEL = 2002
AUTHOR = 3003


async def animate(storage: Storage, scene_id: int, mp4: bytes) -> None:
    """A finished video job for the scene's current picture, its MP4 stored."""
    scene = await storage.scenes.get(scene_id)
    assert scene is not None
    job = await storage.jobs.create(
        scene_id=scene.id,
        guild_id=GUILD,
        channel_id=scene.channel_id,
        message_id=scene.message_id,
        image_version=scene.image_version,
    )
    await storage.jobs.claim(job.id)  # as the video loop does: a lease before each turn
    await storage.jobs.begin_submit(job.id)
    await storage.jobs.mark_submitted(job.id, f"req-{job.id}", scene.created_at)
    await storage.jobs.claim(job.id)
    await storage.jobs.begin_download(job.id)
    await storage.media.save_video(scene.id, mp4)
    await storage.jobs.mark_done(job.id)


async def told_story(
    storage: Storage,
    texts: list[str],
    *,
    animated: Collection[int] = (),
    guild_id: int = GUILD,
    title: str = "The Fox and the Whale",
    side: int = 512,
) -> Story:
    """A story whose scenes (numbered from 1) were drawn; those in `animated` have a video."""
    story = await storage.stories.create(
        guild_id=guild_id,
        channel_id=CHANNEL,
        author_id=AUTHOR,
        premise=texts[0],
        title=title,
        model_key="gpt-image-2",
        video_mode=False,
    )
    for number, text in enumerate(texts, start=1):
        scene = await storage.scenes.create(
            story_id=story.id, text=text, model_key="gpt-image-2", channel_id=CHANNEL
        )
        picture = scene_picture(text, (side, side))
        await storage.media.save_image(scene.id, picture)
        await storage.scenes.record_image(scene.id, "gpt-image-2")
        await storage.scenes.set_message(scene.id, channel_id=CHANNEL, message_id=9000 + scene.id)
        if number in animated:
            await animate(storage, scene.id, scene_film(picture))
    return story


@dataclass
class Site:
    server: BookServer
    http: aiohttp.ClientSession
    links: Links

    async def get(self, url: str) -> tuple[int, bytes, str]:
        async with self.http.get(url) as response:
            return response.status, await response.read(), response.content_type
