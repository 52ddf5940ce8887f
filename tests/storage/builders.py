"""Small builders shared by the storage tests (a settable clock, a story with scenes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import Scene, Storage, Story, VideoJob

GUILD = 1001
CHANNEL = 2002
AUTHOR = 3003
START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


async def new_story(
    storage: Storage, *, author_id: int = AUTHOR, channel_id: int = CHANNEL
) -> Story:
    return await storage.stories.create(
        guild_id=GUILD,
        channel_id=channel_id,
        author_id=author_id,
        premise="a fox learns to fly",
        title="The Flying Fox",
        model_key="gpt-image-1-mini",
        video_mode=False,
    )


async def new_scene(storage: Storage, story: Story | None = None) -> Scene:
    story = story if story is not None else await new_story(storage)
    return await storage.scenes.create(
        story_id=story.id, text="Once upon a time", model_key="gpt-image-1-mini", channel_id=CHANNEL
    )


async def new_job(storage: Storage, scene: Scene | None = None) -> VideoJob:
    scene = scene if scene is not None else await new_scene(storage)
    return await storage.jobs.create(
        scene_id=scene.id,
        guild_id=GUILD,
        channel_id=CHANNEL,
        message_id=4004,
        image_version=scene.image_version,
    )
