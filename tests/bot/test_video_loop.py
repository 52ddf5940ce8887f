"""VideoLoop against the real Storage in tmp_path and a small fake VideoProvider (SPEC §8).

The loop's tick is called by hand; reporting on Discord (bot/video_delivery.py) is replaced
by a recorder, so these tests are about the job state machine, quota and concurrency.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import bot.video_loop as video_loop_module
from bot.video_loop import CONCURRENCY, VideoLoop
from providers.base import VideoRequest, VideoState, VideoStatus
from providers.errors import ContentRefused, RateLimited, TooLarge, Unavailable
from storage import JobState, Storage, UsageKind, VideoJob
from tests.fakes.pictures import mp4, png

GUILD, CHANNEL, MEMBER = 1001, 2002, 3003
POLL = 0.001  # seconds; jobs are due again almost at once
TIMEOUT = 300.0


@dataclass
class FakeVideo:
    """A VideoProvider that answers at once (after a yield) and records what it was asked."""

    polls_until_done: int = 0
    submits: list[VideoRequest] = field(default_factory=list)
    polls: dict[str, int] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)
    active: int = 0
    peak: int = 0  # the most calls in flight at once
    on_submit: Callable[[VideoRequest], object] | None = None
    poll_errors: list[Exception] = field(default_factory=list)
    download_errors: list[Exception] = field(default_factory=list)
    final: VideoStatus | None = None  # None: done with a URL

    async def _call(self) -> None:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(0.002)  # let every other worker in
        finally:
            self.active -= 1

    async def submit(self, request: VideoRequest) -> str:
        await self._call()
        self.submits.append(request)
        if self.on_submit is not None:
            outcome = self.on_submit(request)
            if isinstance(outcome, Exception):
                raise outcome
            if asyncio.iscoroutine(outcome):
                await outcome
        return f"req-{len(self.submits)}"

    async def poll(self, request_id: str) -> VideoStatus:
        await self._call()
        self.polls[request_id] = self.polls.get(request_id, 0) + 1
        if self.poll_errors:
            raise self.poll_errors.pop(0)
        if self.polls[request_id] <= self.polls_until_done:
            return VideoStatus(VideoState.PENDING)
        return self.final or VideoStatus(VideoState.DONE, url=f"https://x.test/{request_id}.mp4")

    async def download(self, url: str, dest: Path, max_bytes: int) -> int:
        await self._call()
        self.downloads.append(url)
        if self.download_errors:
            raise self.download_errors.pop(0)
        data = mp4(4096)
        await asyncio.to_thread(dest.write_bytes, data)
        return len(data)


@dataclass
class Reports:
    """Stands in for bot.video_delivery.deliver: records jobs, answers `shown`."""

    jobs: list[VideoJob] = field(default_factory=list)
    shown: bool = True

    async def __call__(self, bot: object, job: VideoJob) -> bool:
        self.jobs.append(job)
        return self.shown


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    opened = await Storage.open(tmp_path / "data")
    yield opened
    await opened.close()


@pytest.fixture
def video() -> FakeVideo:
    return FakeVideo()


@pytest.fixture
def reports(monkeypatch: pytest.MonkeyPatch) -> Reports:
    recorder = Reports()
    monkeypatch.setattr(video_loop_module, "deliver", recorder)
    return recorder


def make_loop(storage: Storage, video: FakeVideo, *, timeout: float = TIMEOUT) -> VideoLoop:
    bot: Any = SimpleNamespace(services=SimpleNamespace(storage=storage))
    return VideoLoop(bot, video, POLL, timeout)


async def queue_job(storage: Storage, number: int = 0, *, reserve: bool = True) -> VideoJob:
    """A story with one drawn, posted scene and a queued video job holding a quota slot."""
    story = await storage.stories.create(
        guild_id=GUILD,
        channel_id=CHANNEL,
        author_id=MEMBER,
        premise=f"premise {number}",
        title=f"Story {number}",
        model_key="gpt-image-1-mini",
        video_mode=False,
    )
    scene = await storage.scenes.create(
        story_id=story.id, text=f"scene {number}", model_key="gpt-image-1-mini", channel_id=CHANNEL
    )
    await storage.media.save_image(scene.id, png())
    scene = await storage.scenes.record_image(scene.id, "gpt-image-1-mini")
    await storage.scenes.set_message(scene.id, channel_id=CHANNEL, message_id=90_000 + number)
    usage_id = None
    if reserve:
        entry = await storage.usage.reserve(
            guild_id=GUILD,
            member_id=MEMBER,
            kind=UsageKind.VIDEO,
            model_key="grok-imagine-video",
            cost_usd=0.56,
            guild_limit=None,
            member_limit=None,
        )
        usage_id = entry.id
    return await storage.jobs.create(
        scene_id=scene.id,
        guild_id=GUILD,
        channel_id=CHANNEL,
        message_id=90_000 + number,
        image_version=scene.image_version,
        usage_id=usage_id,
    )


async def state_of(storage: Storage, job: VideoJob) -> VideoJob:
    current = await storage.jobs.get(job.id)
    assert current is not None
    return current


async def videos_counted(storage: Storage) -> int:
    return await storage.usage.count_today(GUILD, UsageKind.VIDEO)


async def run_until_settled(loop: VideoLoop, storage: Storage, *jobs: VideoJob) -> None:
    for _ in range(200):
        await loop.tick()
        current = [await state_of(storage, job) for job in jobs]
        if all(job.finished and job.reported for job in current):
            return
        await asyncio.sleep(POLL * 2)
    raise AssertionError(f"jobs never settled: {current}")


async def test_a_queued_job_is_submitted_polled_downloaded_reported_and_counted(
    storage: Storage, video: FakeVideo, reports: Reports
) -> None:
    video.polls_until_done = 2
    job = await queue_job(storage)
    loop = make_loop(storage, video)
    await run_until_settled(loop, storage, job)
    done = await state_of(storage, job)
    assert done.state is JobState.DONE
    assert done.provider_request_id == "req-1"
    assert len(video.submits) == 1
    assert video.submits[0].image.data == png()
    assert video.submits[0].image.mime_type == "image/png"
    assert video.polls == {"req-1": 3}
    assert storage.media.video_path(job.scene_id).read_bytes() == mp4(4096)
    assert [r.id for r in reports.jobs] == [job.id]
    assert await videos_counted(storage) == 1


@pytest.mark.parametrize(("reported", "counted"), [(0.4321, 0.4321), (None, 0.56)])
async def test_a_finished_video_counts_the_cost_xai_reported_else_the_estimate(
    storage: Storage, video: FakeVideo, reports: Reports, reported: float | None, counted: float
) -> None:
    video.final = VideoStatus(VideoState.DONE, url="https://x.test/v.mp4", cost_usd=reported)
    job = await queue_job(storage)
    await run_until_settled(make_loop(storage, video), storage, job)
    summary = await storage.usage.summary_today(GUILD)
    assert summary.by_kind[UsageKind.VIDEO].cost_usd == pytest.approx(counted)


async def test_two_hundred_due_jobs_all_advance_in_one_tick_with_bounded_concurrency(
    storage: Storage, video: FakeVideo, reports: Reports
) -> None:
    jobs = [await queue_job(storage, n) for n in range(200)]
    loop = make_loop(storage, video)
    await loop.tick()
    states = {(await state_of(storage, job)).state for job in jobs}
    assert states == {JobState.SUBMITTED}
    assert len(video.submits) == 200
    assert 1 < video.peak <= CONCURRENCY
    video.peak = 0
    await asyncio.sleep(POLL * 2)
    await loop.tick()  # every job polled, found done, downloaded and reported
    states = {(await state_of(storage, job)).state for job in jobs}
    assert states == {JobState.DONE}
    assert 1 < video.peak <= CONCURRENCY
    assert len(reports.jobs) == 200
    assert await videos_counted(storage) == 200


async def test_one_job_that_raises_is_failed_and_the_others_carry_on(
    storage: Storage, video: FakeVideo, reports: Reports
) -> None:
    bad, *good = [await queue_job(storage, n) for n in range(3)]
    video.on_submit = lambda r: RuntimeError("boom") if r.prompt == "scene 0" else None
    loop = make_loop(storage, video)
    await run_until_settled(loop, storage, bad, *good)
    failed = await state_of(storage, bad)
    assert (failed.state, failed.reason) == (JobState.FAILED, "something went wrong on our side")
    assert [(await state_of(storage, job)).state for job in good] == [JobState.DONE] * 2
    assert await videos_counted(storage) == 2, "the failed one is not counted"


async def test_a_job_deleted_under_the_loop_does_not_cost_the_others_their_report(
    storage: Storage, video: FakeVideo, reports: Reports
) -> None:
    finished = await queue_job(storage, 1)
    await storage.jobs.claim(finished.id)
    await storage.jobs.fail(finished.id, "the job failed")
    doomed = await queue_job(storage, 2)

    async def delete_story(request: VideoRequest) -> None:
        scene = await storage.scenes.get(doomed.scene_id)
        assert scene is not None
        await storage.delete_story(scene.story_id)  # the job row goes with it

    video.on_submit = delete_story
    await make_loop(storage, video).tick()
    assert await storage.jobs.get(doomed.id) is None
    assert [r.id for r in reports.jobs] == [finished.id], "the same tick still reported"
    assert (await state_of(storage, finished)).reported


async def test_a_report_discord_did_not_take_is_retried_next_tick(
    storage: Storage, video: FakeVideo, reports: Reports
) -> None:
    job = await queue_job(storage)
    loop = make_loop(storage, video)
    reports.shown = False
    for _ in range(5):
        await loop.tick()
        await asyncio.sleep(POLL * 2)
    current = await state_of(storage, job)
    assert (current.state, current.reported) == (JobState.DONE, False)
    assert len(reports.jobs) >= 2, "tried on every tick"
    reports.shown = True
    await loop.tick()
    assert (await state_of(storage, job)).reported


async def test_a_report_that_raises_is_retried_and_never_fails_a_done_job(
    storage: Storage, video: FakeVideo, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    async def flaky(bot: object, job: VideoJob) -> bool:
        calls.append(job.id)
        if len(calls) == 1:
            raise RuntimeError("discord went away")
        return True

    monkeypatch.setattr(video_loop_module, "deliver", flaky)
    job = await queue_job(storage)
    await run_until_settled(make_loop(storage, video), storage, job)
    assert (await state_of(storage, job)).state is JobState.DONE
    assert len(calls) == 2
    assert await videos_counted(storage) == 1


async def test_transient_poll_and_download_errors_are_retried_until_done(
    storage: Storage, video: FakeVideo, reports: Reports
) -> None:
    video.poll_errors = [RateLimited("xAI", "slow down"), Unavailable("xAI", "503")]
    video.download_errors = [Unavailable("xAI", "the file server failed")]
    job = await queue_job(storage)
    await run_until_settled(make_loop(storage, video), storage, job)
    assert (await state_of(storage, job)).state is JobState.DONE
    assert len(video.downloads) == 2
    assert len(video.submits) == 1, "never submitted twice"


@pytest.mark.parametrize(
    ("final", "reason"),
    [
        (VideoStatus(VideoState.FAILED, reason="the GPU caught fire"), "the GPU caught fire"),
        (VideoStatus(VideoState.EXPIRED, reason="the job expired at xAI"), "expired"),
        (VideoStatus(VideoState.EXPIRED), "the video expired"),
    ],
)
async def test_a_failed_or_expired_video_fails_the_job_uncounted(
    storage: Storage, video: FakeVideo, reports: Reports, final: VideoStatus, reason: str
) -> None:
    video.final = final
    job = await queue_job(storage)
    await run_until_settled(make_loop(storage, video), storage, job)
    failed = await state_of(storage, job)
    assert failed.state is JobState.FAILED
    assert failed.reason is not None
    assert reason in failed.reason
    assert await videos_counted(storage) == 0
    assert not storage.media.video_path(job.scene_id).exists()


async def test_a_refused_submit_fails_the_job_with_the_providers_reason(
    storage: Storage, video: FakeVideo, reports: Reports
) -> None:
    video.on_submit = lambda r: ContentRefused("xAI", "no dragons")
    job = await queue_job(storage)
    await run_until_settled(make_loop(storage, video), storage, job)
    failed = await state_of(storage, job)
    assert failed.state is JobState.FAILED
    assert failed.reason is not None
    assert "declined" in failed.reason
    assert "no dragons" in failed.reason
    assert await videos_counted(storage) == 0


async def test_a_rate_limited_submit_is_queued_again_and_then_made_once(
    storage: Storage, video: FakeVideo, reports: Reports
) -> None:
    refusals = [RateLimited("xAI", "too many requests")]
    video.on_submit = lambda r: refusals.pop() if refusals else None
    job = await queue_job(storage)
    await run_until_settled(make_loop(storage, video), storage, job)
    assert (await state_of(storage, job)).state is JobState.DONE
    assert len(video.submits) == 2  # the refused attempt started nothing
    assert len(video.downloads) == 1
    assert await videos_counted(storage) == 1


async def test_an_oversize_download_fails_the_job_and_leaves_no_file(
    storage: Storage, video: FakeVideo, reports: Reports
) -> None:
    video.download_errors = [TooLarge("xAI", "the file exceeds the cap")]
    job = await queue_job(storage)
    await run_until_settled(make_loop(storage, video), storage, job)
    assert (await state_of(storage, job)).state is JobState.FAILED
    assert not list(storage.media.videos_dir.iterdir()), "no partial or temp file"


async def test_a_job_past_the_timeout_is_given_up(
    storage: Storage, video: FakeVideo, reports: Reports
) -> None:
    video.polls_until_done = 1_000_000
    job = await queue_job(storage)
    await run_until_settled(make_loop(storage, video, timeout=0.05), storage, job)
    failed = await state_of(storage, job)
    assert (failed.state, failed.reason) == (JobState.FAILED, "it was not ready in time")
    assert await videos_counted(storage) == 0


async def test_a_job_of_a_replaced_picture_is_never_submitted(
    storage: Storage, video: FakeVideo, reports: Reports
) -> None:
    job = await queue_job(storage)
    await storage.scenes.record_image(job.scene_id, "gpt-image-1-mini")  # a new picture
    await run_until_settled(make_loop(storage, video), storage, job)
    failed = await state_of(storage, job)
    assert (failed.state, failed.reason) == (JobState.FAILED, "the picture changed")
    assert not video.submits


async def test_a_job_superseded_while_polled_is_dropped_without_a_download(
    storage: Storage, video: FakeVideo, reports: Reports
) -> None:
    job = await queue_job(storage)
    loop = make_loop(storage, video)
    await loop.tick()
    assert (await state_of(storage, job)).state is JobState.SUBMITTED
    await storage.jobs.cancel_active(job.scene_id)  # Regenerate
    await asyncio.sleep(POLL * 2)
    await loop.tick()
    assert not video.downloads
    assert not reports.jobs, "Regenerate replaced the message itself"


async def test_a_long_running_job_is_polled_less_and_less_often(
    storage: Storage, video: FakeVideo, reports: Reports
) -> None:
    loop = make_loop(storage, video)
    job = await queue_job(storage)
    gaps = []
    for attempts in (0, 5, 6, 12, 18, 60):
        polled = replace(job, attempts=attempts)
        gaps.append(round((loop._next_poll(polled) - loop._tick_at) / loop.poll))
    assert gaps == [1, 1, 2, 4, 6, 6]
