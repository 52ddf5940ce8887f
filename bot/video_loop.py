"""The background loop of SPEC §8: every VIDEO_POLL_SECONDS, advance the due video jobs and
report the finished ones on their scene messages.

What a job does next is `VideoService`'s (bot/videos.py); showing it on Discord is the `report`
coroutine function's (bot/video_delivery.py). This module only decides when, and how many at
once. Errors are caught per job: `tasks.loop` stops on an unhandled exception, and one bad job
must never stop the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from discord.ext import tasks

from bot.videos import VideoService
from storage import IllegalTransition, NotFound, VideoJob

log = logging.getLogger(__name__)
CONCURRENCY = 32
BATCH = 400  # at most this many provider calls a tick; the rest wait for the next one
# Shows a finished job on its scene message: True once it does (or never can), False to retry.
Report = Callable[[VideoJob], Awaitable[bool]]


class VideoLoop:
    def __init__(
        self,
        videos: VideoService,
        report: Report,
        *,
        ready: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.videos = videos
        self.report = report
        self._ready = ready
        self._gate = asyncio.Semaphore(CONCURRENCY)
        self.task = tasks.loop(seconds=videos.poll.total_seconds())(self.tick)
        self.task.before_loop(self._until_ready)

    async def _until_ready(self) -> None:
        """Every guild's upload limit (by boost level) is known only once the gateway is ready;
        a video judged before that could be called too large for a boosted server."""
        if self._ready is not None:
            await self._ready()

    def start(self) -> None:
        self.task.start()

    def stop(self) -> None:
        self.task.cancel()

    async def tick(self) -> None:
        try:
            started = self.videos.now()
            jobs = await self.videos.claim_due(BATCH, started)
            async with self.videos.leases_kept():  # other processes may take them over
                await asyncio.gather(*(self._advance(job, started) for job in jobs))
            finished = await self.videos.unreported(BATCH)
            await asyncio.gather(*(self._report(job) for job in finished))
        except Exception:
            log.exception("video loop tick failed; the next tick carries on")

    async def _advance(self, job: VideoJob, started: datetime) -> None:
        async with self._gate:
            await self.videos.advance(job, started)

    async def _report(self, job: VideoJob) -> None:
        """A report that failed is retried next tick; it never fails a finished job."""
        async with self._gate:
            try:
                if await self.report(job):
                    await self.videos.reported(job)
            except (IllegalTransition, NotFound):
                log.info("video job %s was deleted before its report", job.id)
            except Exception:
                log.exception("reporting video job %s failed; retried next tick", job.id)
