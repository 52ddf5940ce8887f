"""The background loop of SPEC §8: submit queued jobs, poll, download, attach to the message.

Each tick claims only the jobs that are due (an indexed query), works on them with bounded
concurrency, then reports every finished job on its scene message. Errors are caught per job:
`tasks.loop` stops on an unhandled exception, and one bad job must never stop the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from discord.ext import tasks

from bot.errors import provider_text
from bot.video_delivery import deliver
from providers.base import ReferenceImage, VideoProvider, VideoRequest, VideoState
from providers.errors import ProviderError, ProviderTimeout, RateLimited, TooLarge, Unavailable
from storage import IllegalTransition, NotFound, Storage, VideoJob, utc_now

if TYPE_CHECKING:
    from bot.app import StoryBot

log = logging.getLogger(__name__)
MAX_VIDEO_BYTES = 200 * 1024 * 1024  # far above any Discord upload limit; kept on disk
CONCURRENCY = 32
BATCH = 400  # at most this many provider calls a tick; the rest wait for the next one
TRANSIENT = (RateLimited, Unavailable, ProviderTimeout)
# Videos take minutes: a job is polled every VIDEO_POLL_SECONDS at first, then less often
# (x2, x4, up to x6 after every BACKOFF_STEP polls), so a thousand pending jobs stay cheap.
BACKOFF_STEP = 6
MAX_BACKOFF = 6


class VideoLoop:
    def __init__(self, bot: StoryBot, video: VideoProvider, poll: float, timeout: float) -> None:
        self.bot = bot
        self.storage: Storage = bot.services.storage
        self.video = video
        self.poll = timedelta(seconds=poll)
        self.timeout = timedelta(seconds=timeout)
        self._gate = asyncio.Semaphore(CONCURRENCY)
        self._tick_at = utc_now()
        self.task = tasks.loop(seconds=poll)(self.tick)
        self.task.before_loop(self._until_ready)

    async def _until_ready(self) -> None:
        """Every guild's upload limit (by boost level) is known only once the gateway is ready;
        a video judged before that could be called too large for a boosted server."""
        await self.bot.wait_until_ready()

    def start(self) -> None:
        self.task.start()

    def stop(self) -> None:
        self.task.cancel()

    async def tick(self) -> None:
        try:
            self._tick_at = utc_now()  # next polls count from here, so none slips a tick
            jobs = await self.storage.jobs.claim_due(limit=BATCH)
            async with self.storage.jobs.leases_kept():  # other processes may take them over
                await asyncio.gather(*(self._guarded(self._advance, job) for job in jobs))
            finished = await self.storage.jobs.unreported(limit=BATCH)
            await asyncio.gather(*(self._guarded(self._report, job) for job in finished))
        except Exception:
            log.exception("video loop tick failed; the next tick carries on")

    async def _guarded(self, step: _Step, job: VideoJob) -> None:
        async with self._gate:
            try:
                await step(job)
            except (IllegalTransition, NotFound):
                log.info("video job %s moved elsewhere (e.g. Regenerate); dropped", job.id)
            except Exception:
                log.exception("video job %s failed unexpectedly", job.id)
                if not job.finished:  # a report that failed is retried, not failed again
                    await self._fail_quietly(job, "something went wrong on our side")

    async def _advance(self, job: VideoJob) -> None:
        if utc_now() - job.created_at > self.timeout:
            await self._fail(job, "it was not ready in time")
        elif job.provider_request_id is None:
            await self._submit(job)
        else:
            await self._poll(job, job.provider_request_id)

    async def _submit(self, job: VideoJob) -> None:
        scene = await self.storage.scenes.get(job.scene_id)
        png = await self.storage.media.read_image(job.scene_id)
        if scene is None or png is None or scene.image_version != job.image_version:
            await self._fail(job, "the picture changed")
            return
        await self.storage.jobs.begin_submit(job.id)  # committed before anything is sent
        try:
            request_id = await self.video.submit(
                VideoRequest(scene.text, ReferenceImage(png, "image/png"))
            )
        except RateLimited:  # refused outright, nothing started: try again next round
            await self.storage.jobs.requeue(job.id, self._tick_at + self.poll)
            return
        except ProviderError as exc:
            await self._fail(job, provider_text(exc))
            return
        await self.storage.jobs.mark_submitted(job.id, request_id, self._tick_at + self.poll)

    async def _poll(self, job: VideoJob, request_id: str) -> None:
        try:
            status = await self.video.poll(request_id)
        except TRANSIENT:
            await self.storage.jobs.schedule_poll(job.id, self._next_poll(job))
            return
        except ProviderError as exc:
            await self._fail(job, provider_text(exc))
            return
        if status.state is VideoState.PENDING:
            await self.storage.jobs.schedule_poll(job.id, self._next_poll(job))
        elif status.state is VideoState.DONE and status.url:
            await self._download(job, status.url, status.cost_usd)
        else:
            await self._fail(job, status.reason or f"the video {status.state.value}")

    def _next_poll(self, job: VideoJob) -> datetime:
        doublings = min(job.attempts // BACKOFF_STEP, 3)  # 1, 2, 4, then capped at MAX_BACKOFF
        return self._tick_at + self.poll * min(1 << doublings, MAX_BACKOFF)

    async def _download(self, job: VideoJob, url: str, cost_usd: float | None) -> None:
        await self.storage.jobs.begin_download(job.id)
        media = self.storage.media
        temp = media.video_temp_path(job.scene_id)
        try:
            await self.video.download(url, temp, MAX_VIDEO_BYTES)
        except TRANSIENT:
            await self.storage.jobs.retry_download(job.id, self._tick_at + self.poll)
            return
        except (TooLarge, ProviderError) as exc:
            await media.discard(temp)
            await self._fail(job, provider_text(exc))
            return
        except OSError as exc:  # our disk (full, read-only): the URL lives 24 h, so try again
            log.warning("video job %s: could not store the download (%s)", job.id, exc.strerror)
            await media.discard(temp)
            await self.storage.jobs.retry_download(job.id, self._tick_at + self.poll)
            return
        await media.commit_video(job.scene_id, temp)
        await self.storage.jobs.mark_done(job.id)
        await self._settle(job, succeeded=True, cost_usd=cost_usd)

    async def _fail(self, job: VideoJob, reason: str) -> None:
        await self.storage.jobs.fail(job.id, reason)
        await self._settle(job, succeeded=False)

    async def _fail_quietly(self, job: VideoJob, reason: str) -> None:
        """Fail a job after an unexpected error; it may have finished or vanished meanwhile."""
        try:
            await self._fail(job, reason)
        except (IllegalTransition, NotFound):
            log.info("video job %s already finished or deleted", job.id)
        except Exception:
            log.exception("could not mark video job %s failed; its lease retries it", job.id)

    async def _settle(
        self, job: VideoJob, *, succeeded: bool, cost_usd: float | None = None
    ) -> None:
        """Count or release the job's slot; xAI's own figure, if it sent one, replaces the
        estimate."""
        if job.usage_id is not None:
            with contextlib.suppress(NotFound):  # already released by a restart
                await self.storage.usage.settle(
                    job.usage_id, succeeded=succeeded, cost_usd=cost_usd
                )

    async def _report(self, job: VideoJob) -> None:
        if await deliver(self.bot, job):
            await self.storage.jobs.mark_reported(job.id)


if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    _Step = Callable[[VideoJob], Awaitable[None]]
