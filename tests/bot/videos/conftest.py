"""VideoService over a real SQLite Storage in tmp_path and the real XAIVideo (openai SDK and
httpx) against the loopback xAI stand-in, with an injected clock: time moves only when a test
says so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import openai
import pytest

from bot.videos import VideoService
from providers.retry import RetryPolicy
from providers.xai_video import XAIVideo
from storage import Storage, UsageKind, VideoJob
from tests.fakes.pictures import png
from tests.fakes.xai_api import XAIStandin

GUILD, CHANNEL, MEMBER = 1001, 2002, 3003
POLL = timedelta(seconds=5)
TIMEOUT = timedelta(seconds=300)
MAX_BYTES = 64 * 1024  # the service's cap on a download; the stand-in serves 4 KiB by default
VIDEOS_A_DAY = 1000


@dataclass
class Clock:
    """The injected clock: `advance` moves it; nothing sleeps."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 29, 12, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def storage(tmp_path: Path, clock: Clock) -> AsyncIterator[Storage]:
    opened = await Storage.open(tmp_path / "data", clock=clock)
    yield opened
    await opened.close()


@pytest.fixture
async def xai(xai_standin: XAIStandin) -> XAIStandin:
    xai_standin.polls_until_done = 0  # done at the first poll unless a test says otherwise
    return xai_standin


@pytest.fixture
async def videos(storage: Storage, xai: XAIStandin, clock: Clock) -> AsyncIterator[VideoService]:
    """No retries inside the SDK or the downloader: the service's own retries are under test."""
    async with (
        openai.AsyncOpenAI(
            base_url=xai.base_url, api_key="test-key", max_retries=0, timeout=5.0
        ) as client,
        httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as http,
    ):
        provider = XAIVideo(
            client, http, allow_private_downloads=True, retry=RetryPolicy(attempts=1)
        )
        yield VideoService(
            storage, provider, clock, poll=POLL, timeout=TIMEOUT, max_bytes=MAX_BYTES
        )


async def posted_scene(storage: Storage, number: int = 0) -> int:
    """A story with one drawn, posted scene; returns the scene id."""
    story = await storage.stories.create(
        guild_id=GUILD,
        channel_id=CHANNEL,
        author_id=MEMBER,
        premise=f"premise {number}",
        title=f"Story {number}",
        model_key="gpt-image-2",
        video_mode=False,
    )
    scene = await storage.scenes.create(
        story_id=story.id, text=f"scene {number}", model_key="gpt-image-2", channel_id=CHANNEL
    )
    await storage.media.save_image(scene.id, png())
    await storage.scenes.record_image(scene.id, "gpt-image-2")
    await storage.scenes.set_message(scene.id, channel_id=CHANNEL, message_id=90_000 + number)
    return scene.id


async def queue_job(videos: VideoService, number: int = 0) -> VideoJob:
    """A posted scene and its video job, queued by Animate with a quota slot held."""
    scene_id = await posted_scene(videos.storage, number)
    scene = await videos.storage.scenes.get(scene_id)
    assert scene is not None
    return await videos.animate(scene, guild_id=GUILD, member_id=MEMBER, limit=VIDEOS_A_DAY)


async def state_of(storage: Storage, job: VideoJob) -> VideoJob:
    current = await storage.jobs.get(job.id)
    assert current is not None
    return current


async def videos_counted(storage: Storage) -> int:
    return await storage.usage.count_today(GUILD, UsageKind.VIDEO)
