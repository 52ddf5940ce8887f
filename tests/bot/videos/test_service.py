"""VideoService (SPEC §8): a job's steps from queued to done or failed, the quota it holds, and
the provider's answers, over real HTTP to the xAI stand-in."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.errors import Refusal, video_failure_text
from bot.videos import VideoService
from storage import JobState, Storage, UsageKind, VideoJob
from tests.bot.videos.conftest import (
    GUILD,
    MAX_BYTES,
    POLL,
    TIMEOUT,
    Clock,
    queue_job,
    state_of,
    videos_counted,
)
from tests.fakes.pictures import png
from tests.fakes.xai_api import FILES, VIDEOS, VideoOutcome, XAIStandin
from tests.fakes.xai_api import POLL as POLL_ROUTE

BATCH = 100


async def step(videos: VideoService, clock: Clock) -> None:
    """One round as the loop runs it: every due job takes one step; then a poll interval passes."""
    started = videos.now()
    for job in await videos.claim_due(BATCH, started):
        await videos.advance(job, started)
    clock.advance(POLL)


async def settle(videos: VideoService, clock: Clock, *jobs: VideoJob) -> list[VideoJob]:
    for _ in range(100):
        current = [await state_of(videos.storage, job) for job in jobs]
        if all(job.finished for job in current):
            return current
        await step(videos, clock)
    raise AssertionError(f"jobs never finished: {current}")


def shown(job: VideoJob) -> str:
    """Why the scene message says there is no video."""
    assert job.state is JobState.FAILED
    assert job.reason is not None
    return video_failure_text(job.reason, job.provider_reason)


async def failure_of(videos: VideoService, clock: Clock, job: VideoJob) -> str:
    (failed,) = await settle(videos, clock, job)
    return shown(failed)


async def test_a_queued_job_is_submitted_polled_downloaded_and_counted(
    videos: VideoService, xai: XAIStandin, clock: Clock, storage: Storage
) -> None:
    xai.polls_until_done = 2
    job = await queue_job(videos)
    (done,) = await settle(videos, clock, job)
    assert done.state is JobState.DONE
    (submit,) = xai.requests_to(VIDEOS)
    assert done.provider_request_id in xai.jobs
    assert [image.data for image in submit.images] == [png()]
    assert submit.images[0].mime_type == "image/png"
    assert len(xai.requests_to(POLL_ROUTE)) == 3
    assert storage.media.video_path(job.scene_id).read_bytes() == xai.video_bytes(
        done.provider_request_id or ""
    )
    assert await videos_counted(storage) == 1


@pytest.mark.parametrize(("ticks", "counted"), [(4_321_000_000, 0.4321), (None, 0.56)])
async def test_a_finished_video_counts_the_cost_xai_reported_else_the_estimate(
    videos: VideoService,
    xai: XAIStandin,
    clock: Clock,
    storage: Storage,
    ticks: int | None,
    counted: float,
) -> None:
    job = await queue_job(videos)
    await step(videos, clock)  # submitted
    request_id = (await state_of(storage, job)).provider_request_id
    video = {"url": f"{xai.origin}/files/{request_id}.mp4", "duration": 8}
    answer: dict[str, object] = {"status": "done", "video": video, "model": "grok-imagine-video"}
    if ticks is not None:
        answer["usage"] = {"cost_in_usd_ticks": ticks}
    xai.queue(POLL_ROUTE, json=answer)
    await settle(videos, clock, job)
    summary = await storage.usage.summary_today(GUILD)
    assert summary.by_kind[UsageKind.VIDEO].cost_usd == pytest.approx(counted)


async def test_a_job_that_raises_unexpectedly_is_failed_and_the_others_carry_on(
    videos: VideoService, clock: Clock, storage: Storage
) -> None:
    bad, *good = [await queue_job(videos, n) for n in range(3)]
    picture = storage.media.image_path(bad.scene_id)
    picture.unlink()
    picture.mkdir()  # reading the picture raises IsADirectoryError: a fault nobody expects
    failed, *done = await settle(videos, clock, bad, *good)
    assert shown(failed) == "something went wrong on our side"
    assert [job.state for job in done] == [JobState.DONE] * 2
    assert await videos_counted(storage) == 2, "the failed one is not counted"


async def test_transient_poll_and_download_errors_are_retried_until_done(
    videos: VideoService, xai: XAIStandin, clock: Clock
) -> None:
    xai.queue(POLL_ROUTE, status=429, headers={"retry-after": "0"})
    xai.queue(POLL_ROUTE, status=503)
    xai.queue(FILES, status=503)
    job = await queue_job(videos)
    (done,) = await settle(videos, clock, job)
    assert done.state is JobState.DONE
    assert len(xai.requests_to(FILES)) == 2
    assert len(xai.requests_to(VIDEOS)) == 1, "never submitted twice"


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (VideoOutcome.failed("the GPU caught fire"), "the GPU caught fire"),
        (VideoOutcome("expired"), "expired"),
    ],
)
async def test_a_failed_or_expired_video_fails_the_job_uncounted(
    videos: VideoService,
    xai: XAIStandin,
    clock: Clock,
    storage: Storage,
    outcome: VideoOutcome,
    reason: str,
) -> None:
    xai.script(outcome)
    job = await queue_job(videos)
    assert reason in await failure_of(videos, clock, job)
    assert await videos_counted(storage) == 0
    assert not storage.media.video_path(job.scene_id).exists()


async def test_a_job_xai_no_longer_knows_is_failed_as_expired(
    videos: VideoService, xai: XAIStandin, clock: Clock, storage: Storage
) -> None:
    job = await queue_job(videos)
    await step(videos, clock)  # submitted
    xai.jobs.clear()  # the request id aged out at xAI: its poll answers 404
    assert "no longer knows this job" in await failure_of(videos, clock, job)
    assert await videos_counted(storage) == 0


async def test_a_refused_submit_fails_the_job_with_the_providers_reason(
    videos: VideoService, xai: XAIStandin, clock: Clock, storage: Storage
) -> None:
    xai.block(VIDEOS, "Rejected by content moderation: no dragons")
    job = await queue_job(videos)
    reason = await failure_of(videos, clock, job)
    assert "declined" in reason
    assert "no dragons" in reason
    assert await videos_counted(storage) == 0


async def test_a_video_moderation_withheld_is_declined(
    videos: VideoService, xai: XAIStandin, clock: Clock
) -> None:
    xai.script(VideoOutcome("moderated"))
    job = await queue_job(videos)
    assert "declined" in await failure_of(videos, clock, job)


async def test_a_rate_limited_submit_is_queued_again_and_then_made_once(
    videos: VideoService, xai: XAIStandin, clock: Clock, storage: Storage
) -> None:
    xai.queue(VIDEOS, status=429, headers={"retry-after": "0"})
    job = await queue_job(videos)
    (done,) = await settle(videos, clock, job)
    assert done.state is JobState.DONE
    assert len(xai.requests_to(VIDEOS)) == 2  # the refused attempt started nothing
    assert len(xai.jobs) == 1
    assert len(xai.requests_to(FILES)) == 1
    assert await videos_counted(storage) == 1


async def test_an_oversize_download_fails_the_job_and_leaves_no_file(
    videos: VideoService, xai: XAIStandin, clock: Clock, storage: Storage
) -> None:
    xai.script(VideoOutcome.oversize(MAX_BYTES + 1, declare_length=False))
    job = await queue_job(videos)
    await failure_of(videos, clock, job)
    assert not list(storage.media.videos_dir.iterdir()), "no partial or temp file"


async def test_a_job_is_given_up_once_past_the_timeout_and_not_before(
    videos: VideoService, xai: XAIStandin, clock: Clock, storage: Storage
) -> None:
    xai.script(VideoOutcome("never"))
    job = await queue_job(videos)
    await step(videos, clock)  # submitted
    clock.now = job.created_at + TIMEOUT
    await step(videos, clock)
    assert (await state_of(storage, job)).state is JobState.SUBMITTED, "on the dot: still waited"
    clock.now = job.created_at + TIMEOUT + POLL * 6
    await step(videos, clock)
    assert shown(await state_of(storage, job)) == "it was not ready in time"
    assert await videos_counted(storage) == 0


async def test_a_job_of_a_replaced_picture_is_never_submitted(
    videos: VideoService, xai: XAIStandin, clock: Clock, storage: Storage
) -> None:
    job = await queue_job(videos)
    await storage.scenes.record_image(job.scene_id, "gpt-image-2")  # a new picture
    assert await failure_of(videos, clock, job) == "the picture changed"
    assert not xai.requests_to(VIDEOS)


async def test_a_job_superseded_while_polled_is_dropped_without_a_download(
    videos: VideoService, xai: XAIStandin, clock: Clock, storage: Storage
) -> None:
    job = await queue_job(videos)
    await step(videos, clock)
    assert (await state_of(storage, job)).state is JobState.SUBMITTED
    await videos.drop(job.scene_id)  # Regenerate
    await step(videos, clock)
    assert not xai.requests_to(FILES)
    assert await videos.unreported(BATCH) == [], "Regenerate replaced the message itself"
    assert await videos_counted(storage) == 0


async def test_animate_twice_is_refused_while_pending_and_once_done(
    videos: VideoService, clock: Clock, storage: Storage
) -> None:
    job = await queue_job(videos)
    scene = await storage.scenes.get(job.scene_id)
    assert scene is not None
    with pytest.raises(Refusal, match="already being animated"):
        await videos.animate(scene, guild_id=GUILD, member_id=1, limit=10)
    await settle(videos, clock, job)
    with pytest.raises(Refusal, match="already animated"):
        await videos.animate(scene, guild_id=GUILD, member_id=1, limit=10)
    assert await videos_counted(storage) == 1, "a refused Animate holds no slot"


async def test_a_long_running_job_is_polled_less_and_less_often(
    videos: VideoService, clock: Clock
) -> None:
    job = await queue_job(videos)
    started = clock()
    gaps = []
    for attempts in (0, 5, 6, 12, 18, 60):
        polled = replace(job, attempts=attempts)
        gaps.append(round((videos.next_poll(polled, started) - started) / POLL))
    assert gaps == [1, 1, 2, 4, 6, 6]
