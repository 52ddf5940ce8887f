"""VideoLoop (SPEC §8): every tick (a step, SLICES to a poll interval) advances the jobs due then
with bounded concurrency, started one after the other, and reports the finished ones; a report
Discord did not take, or one that raised, is tried again next tick.

The loop runs the real VideoService against the xAI stand-in; `report` (on Discord, the
delivery to the scene message) is a recorder here."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from bot.video_loop import BATCH, CONCURRENCY, SLICES, SPREAD, VideoLoop
from bot.videos import VideoService
from storage import JobFailure, JobState, Storage, VideoJob
from tests.bot.videos.conftest import POLL, Clock, queue_job, state_of, videos_counted
from tests.fakes.xai_api import POLL as POLL_ROUTE
from tests.fakes.xai_api import VIDEOS, XAIStandin


@dataclass
class Reports:
    """The `report` coroutine function: records jobs, answers `shown` (or raises `errors`)."""

    jobs: list[VideoJob] = field(default_factory=list)
    shown: bool = True
    errors: list[Exception] = field(default_factory=list)

    async def __call__(self, job: VideoJob) -> bool:
        self.jobs.append(job)
        if self.errors:
            raise self.errors.pop(0)
        return self.shown


async def run_until_settled(
    loop: VideoLoop, clock: Clock, storage: Storage, *jobs: VideoJob
) -> None:
    for _ in range(100):
        await loop.tick()
        current = [await state_of(storage, job) for job in jobs]
        if all(job.finished and job.reported for job in current):
            return
        clock.advance(POLL)
    raise AssertionError(f"jobs never settled: {current}")


async def test_a_queued_job_is_made_reported_once_and_counted(
    videos: VideoService, clock: Clock, storage: Storage
) -> None:
    reports = Reports()
    job = await queue_job(videos)
    await run_until_settled(VideoLoop(videos, reports), clock, storage, job)
    assert (await state_of(storage, job)).state is JobState.DONE
    assert [r.id for r in reports.jobs] == [job.id]
    assert await videos_counted(storage) == 1


async def ticks(loop: VideoLoop, xai: XAIStandin, route: str, count: int) -> list[list[float]]:
    """Run `count` ticks; the arrival times of the requests to `route` each tick caused."""
    arrivals: list[list[float]] = []
    for _ in range(count):
        seen = len(xai.requests_to(route))
        await loop.tick()
        arrivals.append([r.at for r in xai.requests_to(route)[seen:]])
    return arrivals


async def test_two_hundred_due_jobs_advance_within_one_interval_spread_over_its_steps(
    videos: VideoService, xai: XAIStandin, clock: Clock, storage: Storage
) -> None:
    xai.latency = 0.05  # requests overlap, so concurrency shows
    reports = Reports()
    jobs = [await queue_job(videos, n) for n in range(200)]
    loop = VideoLoop(videos, reports)
    submits = await ticks(loop, xai, VIDEOS, SLICES)
    assert {(await state_of(storage, job)).state for job in jobs} == {JobState.SUBMITTED}
    assert [len(step) for step in submits][:5] == [BATCH // SLICES] * 5
    assert 1 < xai.peak_in_flight <= CONCURRENCY
    first = submits[0]
    assert max(first) - min(first) >= loop.step * SPREAD / 2, "one step's jobs left together"
    xai.peak_in_flight = 0
    clock.advance(POLL)
    await ticks(loop, xai, POLL_ROUTE, SLICES)  # every job polled, found done, downloaded
    assert {(await state_of(storage, job)).state for job in jobs} == {JobState.DONE}
    assert 1 < xai.peak_in_flight <= CONCURRENCY
    assert len(reports.jobs) == 200
    assert await videos_counted(storage) == 200


async def test_a_job_deleted_under_the_loop_does_not_cost_the_others_their_report(
    videos: VideoService, xai: XAIStandin, storage: Storage
) -> None:
    reports = Reports()
    finished = await queue_job(videos, 1)
    await storage.jobs.claim(finished.id)
    await storage.jobs.fail(finished.id, JobFailure.VIDEO_FAILED, "the job failed")
    doomed = await queue_job(videos, 2)
    xai.route_latency[VIDEOS] = 0.5  # the submit is in flight while the story is deleted
    tick = asyncio.create_task(VideoLoop(videos, reports).tick())
    for _ in range(500):  # until the submit has reached the stand-in
        if xai.requests_to(VIDEOS):
            break
        await asyncio.sleep(0.01)
    scene = await storage.scenes.get(doomed.scene_id)
    assert scene is not None
    await storage.delete_story(scene.story_id)  # the job row goes with it
    await tick
    assert await storage.jobs.get(doomed.id) is None
    assert [r.id for r in reports.jobs] == [finished.id], "the same tick still reported"
    assert (await state_of(storage, finished)).reported


async def test_a_report_discord_did_not_take_is_retried_next_tick(
    videos: VideoService, clock: Clock, storage: Storage
) -> None:
    reports = Reports(shown=False)
    job = await queue_job(videos)
    loop = VideoLoop(videos, reports)
    for _ in range(5):
        await loop.tick()
        clock.advance(POLL)
    current = await state_of(storage, job)
    assert (current.state, current.reported) == (JobState.DONE, False)
    assert len(reports.jobs) >= 2, "tried on every tick"
    reports.shown = True
    await loop.tick()
    assert (await state_of(storage, job)).reported


async def test_a_report_that_raises_is_retried_and_never_fails_a_done_job(
    videos: VideoService, clock: Clock, storage: Storage
) -> None:
    reports = Reports(errors=[RuntimeError("discord went away")])
    job = await queue_job(videos)
    await run_until_settled(VideoLoop(videos, reports), clock, storage, job)
    assert (await state_of(storage, job)).state is JobState.DONE
    assert len(reports.jobs) == 2
    assert await videos_counted(storage) == 1


async def test_close_returns_once_the_tick_in_flight_has_ended(
    videos: VideoService, storage: Storage
) -> None:
    """Shutdown closes storage right after the loop: a tick still running then would fail
    against a closed database (and a loop that only asked its tick to stop left one running)."""
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def report(job: VideoJob) -> bool:
        started.set()
        try:
            await asyncio.Event().wait()  # a Discord edit still in flight at shutdown
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return True

    job = await queue_job(videos)
    await storage.jobs.claim(job.id)
    await storage.jobs.fail(job.id, JobFailure.VIDEO_FAILED, "the job failed")
    loop = VideoLoop(videos, report)
    loop.start()
    await asyncio.wait_for(started.wait(), timeout=10)
    await loop.close()
    assert cancelled.is_set(), "the report in flight was ended"
    assert not loop.task.is_running(), "no tick is left running"
    assert not (await state_of(storage, job)).reported, "reported next start instead"


class CancelSwallowingVideos(VideoService):
    """The real service, but its first look for finished jobs swallows a cancel, as a timeout
    expiring in the same instant as the cancel can turn it into another error."""

    def __init__(self, videos: VideoService) -> None:
        super().__init__(
            videos.storage, videos.provider, videos.clock, poll=videos.poll, timeout=videos.timeout
        )
        self.looks = 0
        self.looking = asyncio.Event()

    async def unreported(self, limit: int) -> list[VideoJob]:
        self.looks += 1
        if self.looks == 1:
            self.looking.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()
        return await super().unreported(limit)


async def test_a_tick_that_swallows_the_cancel_is_the_last_one(videos: VideoService) -> None:
    """Stopped, the loop ends after its tick even if that tick did not end on the cancel: it
    must not tick on into a database that closes next."""
    swallowing = CancelSwallowingVideos(videos)
    loop = VideoLoop(swallowing, Reports())
    loop.start()
    await asyncio.wait_for(swallowing.looking.wait(), timeout=10)
    await loop.close()
    assert not loop.task.is_running()
    assert swallowing.looks == 1, "no tick after the one that was stopped"
