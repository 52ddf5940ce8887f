"""The background loop of SPEC §8: advance the due video jobs and report the finished ones on
their scene messages.

What a job does next is `VideoService`'s (bot/videos.py); showing it on Discord is the `report`
coroutine function's (bot/video_delivery.py). This module only decides when, and how many at
once. Errors are caught per job: `tasks.loop` stops on an unhandled exception, and one bad job
must never stop the others.

Polls are spread, not released in one burst per VIDEO_POLL_SECONDS: the loop steps SLICES times
per interval, each step claims only the jobs due by then (at most BATCH // SLICES) and starts
them one after the other over part of the step, and each job's next poll counts from its own
start. A thousand pending jobs are then a steady trickle of polls the event loop interleaves with
commands, instead of hundreds of requests leaving in the same instant.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from discord.ext import tasks

from bot.videos import VideoService
from storage import IllegalTransition, NotFound, VideoJob

log = logging.getLogger(__name__)
CONCURRENCY = 32
BATCH = 400  # at most this many provider calls per poll interval; the rest wait their turn
SLICES = 10  # steps per poll interval
SPREAD = 0.5  # the share of a step over which its jobs start, one after the other
CLOSE_CHECK_SECONDS = 1.0  # how long `close` waits for a cancelled tick before cancelling again
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
        self.step = videos.poll.total_seconds() / SLICES
        self._steps = 0
        self.task = tasks.loop(seconds=self.step)(self.tick)
        self.task.before_loop(self._until_ready)

    async def _until_ready(self) -> None:
        """Every guild's upload limit (by boost level) is known only once the gateway is ready;
        a video judged before that could be called too large for a boosted server."""
        if self._ready is not None:
            await self._ready()

    def start(self) -> None:
        self.task.start()

    def stop(self) -> None:
        """No further ticks; the one in flight, if any, is cancelled but may still be ending.
        Should the tick swallow the cancel (a handler, or a timeout expiring in the same instant,
        can turn it into another error), the loop still ends after it instead of ticking on."""
        self.task.stop()
        self.task.cancel()

    async def close(self) -> None:
        """Stop, and return only once the tick in flight has ended: storage and the provider's
        clients, closed after this, are then no longer in use by a tick."""
        self.stop()
        task = self.task.get_task()
        while task is not None and not task.done():
            await asyncio.wait({task}, timeout=CLOSE_CHECK_SECONDS)
            task.cancel()  # a tick still running after that: cancel again

    async def tick(self) -> None:
        """One step: the jobs due now, started one after the other; then the reports. Dead
        workers' jobs are taken over once per interval, not every step."""
        try:
            take_over = self._steps % SLICES == 0
            self._steps += 1
            jobs = await self.videos.claim_due(
                BATCH // SLICES, self.videos.now(), take_over=take_over
            )
            gap = self.step * SPREAD / max(len(jobs), 1)
            async with self.videos.leases_kept():  # other processes may take them over
                await asyncio.gather(*(self._advance(job, n * gap) for n, job in enumerate(jobs)))
            finished = await self.videos.unreported(BATCH)
            await asyncio.gather(*(self._report(job) for job in finished))
        except Exception:
            log.exception("video loop tick failed; the next tick carries on")

    async def _advance(self, job: VideoJob, delay: float) -> None:
        await asyncio.sleep(delay)
        async with self._gate:
            await self.videos.advance(job, self.videos.now())

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
