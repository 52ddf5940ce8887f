"""Video jobs (SPEC §8) without Discord: queue one for a scene, drop it when the picture is
redrawn, and advance it one step at a time: submit, poll, download, fail, settle its quota slot.

`VideoLoop` (bot/video_loop.py) decides when and how many jobs move; this module decides what a
job does next. Every move goes through storage/jobs.py, whose leases let several processes work
on one database: a move this worker lost the lease for raises, and the job is left to its owner.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable
from datetime import datetime, timedelta

from bot.errors import (
    ALREADY_ANIMATED,
    ALREADY_ANIMATING,
    PICTURE_NOT_READY,
    Refusal,
    failure_of,
)
from providers.base import (
    DEFAULT_VIDEO_SECONDS,
    ReferenceImage,
    VideoProvider,
    VideoRequest,
    VideoState,
)
from providers.errors import ProviderError, ProviderTimeout, RateLimited, TooLarge, Unavailable
from providers.registry import VIDEO_MODEL
from storage import (
    Clock,
    IllegalTransition,
    JobAlreadyActive,
    JobFailure,
    JobState,
    NotFound,
    Scene,
    Storage,
    UsageKind,
    VideoJob,
    utc_now,
)

log = logging.getLogger(__name__)
MAX_VIDEO_BYTES = 200 * 1024 * 1024  # far above any Discord upload limit; kept on disk
TRANSIENT = (RateLimited, Unavailable, ProviderTimeout)
# Videos take minutes: a job is polled every VIDEO_POLL_SECONDS at first, then less often
# (x2, x4, up to x6 after every BACKOFF_STEP polls), so a thousand pending jobs stay cheap.
BACKOFF_STEP = 6
MAX_BACKOFF = 6
# Failures members cannot act on, for operators to look into (the provider's words say why).
_FOR_OPERATORS = frozenset({JobFailure.UNUSABLE, JobFailure.PROVIDER_ERROR})


class VideoService:
    """Queue, drop and advance video jobs; `provider` None means this bot makes no videos."""

    def __init__(
        self,
        storage: Storage,
        provider: VideoProvider | None,
        clock: Clock = utc_now,
        *,
        poll: timedelta,  # VIDEO_POLL_SECONDS
        timeout: timedelta,  # VIDEO_TIMEOUT_SECONDS
        max_bytes: int = MAX_VIDEO_BYTES,
    ) -> None:
        self.storage = storage
        self.provider = provider
        self.clock = clock
        self.poll = poll
        self.timeout = timeout
        self.max_bytes = max_bytes

    @property
    def available(self) -> bool:
        """Whether videos can be made at all (a video provider's key is set)."""
        return self.provider is not None

    # -- queueing and dropping (Animate, video mode, Regenerate) ------------------------------

    async def animate(self, scene: Scene, *, guild_id: int, member_id: int, limit: int) -> VideoJob:
        """Queue a video of the scene's current picture, unless one is on its way or done."""
        if scene.message_id is None:
            raise Refusal(PICTURE_NOT_READY)
        job = await self.storage.jobs.for_scene(scene.id)
        if job is not None and job.image_version == scene.image_version:
            if not job.finished:
                raise Refusal(ALREADY_ANIMATING)
            if job.state is JobState.DONE:
                raise Refusal(ALREADY_ANIMATED)
        return await self.queue(scene, guild_id=guild_id, member_id=member_id, limit=limit)

    async def queue(self, scene: Scene, *, guild_id: int, member_id: int, limit: int) -> VideoJob:
        """Hold a slot of the guild's `limit` videos a day, then queue the job (QuotaExceeded
        when the day's videos are used up)."""
        entry = await self.storage.usage.reserve(
            guild_id=guild_id,
            member_id=member_id,
            kind=UsageKind.VIDEO,
            model_key=VIDEO_MODEL.key,
            cost_usd=VIDEO_MODEL.cost_usd_per_second * DEFAULT_VIDEO_SECONDS,
            guild_limit=limit,
            member_limit=None,
        )
        try:
            return await self.storage.jobs.create(
                scene_id=scene.id,
                guild_id=guild_id,
                channel_id=scene.channel_id,
                message_id=scene.message_id,
                image_version=scene.image_version,
                usage_id=entry.id,
            )
        except JobAlreadyActive as exc:
            await self.storage.usage.settle(entry.id, succeeded=False)
            raise Refusal(ALREADY_ANIMATING) from exc

    async def drop(self, scene_id: int) -> None:
        """Regenerate: the old picture's video is superseded, its quota slot given back."""
        dropped = await self.storage.jobs.cancel_active(scene_id)
        if dropped is not None:
            await self._settle(dropped, succeeded=False)
        await self.storage.media.delete_video(scene_id)

    # -- advancing (the loop) -----------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    async def claim_due(
        self, limit: int, now: datetime, *, take_over: bool = True
    ) -> list[VideoJob]:
        """Lease this worker the jobs due by `now` (at most `limit`); `take_over`: first take
        over the jobs of workers whose lease ran out."""
        return await self.storage.jobs.claim_due(now=now, limit=limit, take_over=take_over)

    def leases_kept(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Renew this worker's leases while the block advances its jobs."""
        return self.storage.jobs.leases_kept()

    async def advance(self, job: VideoJob, started: datetime) -> None:
        """One step of a claimed job; its next poll counts from `started`, when this step of
        it began. Never raises: one bad job must not stop the others."""
        if not await self._guarded(job, self._step(job, started), "failed unexpectedly"):
            failing = self._fail(job, JobFailure.INTERNAL)
            await self._guarded(job, failing, "could not be marked failed; its lease retries it")

    async def unreported(self, limit: int) -> list[VideoJob]:
        """Finished jobs whose scene message does not show the outcome yet."""
        return await self.storage.jobs.unreported(limit=limit)

    async def reported(self, job: VideoJob) -> None:
        """The scene message shows the job's outcome now."""
        await self.storage.jobs.mark_reported(job.id)

    def next_poll(self, job: VideoJob, started: datetime) -> datetime:
        doublings = min(job.attempts // BACKOFF_STEP, 3)  # 1, 2, 4, then capped at MAX_BACKOFF
        return started + self.poll * min(1 << doublings, MAX_BACKOFF)

    async def _step(self, job: VideoJob, started: datetime) -> None:
        if self.clock() - job.created_at > self.timeout:
            await self._fail(job, JobFailure.TIMED_OUT)
        elif job.provider_request_id is None:
            await self._submit(job, started)
        else:
            await self._poll(job, job.provider_request_id, started)

    def _provider(self) -> VideoProvider:
        if self.provider is None:  # jobs exist only where a provider queued them
            raise RuntimeError("video jobs need a video provider")
        return self.provider

    async def _submit(self, job: VideoJob, started: datetime) -> None:
        scene = await self.storage.scenes.get(job.scene_id)
        png = await self.storage.media.read_image(job.scene_id)
        if scene is None or png is None or scene.image_version != job.image_version:
            await self._fail(job, JobFailure.PICTURE_CHANGED)
            return
        await self.storage.jobs.begin_submit(job.id)  # committed before anything is sent
        try:
            request = VideoRequest(scene.text, ReferenceImage(png, "image/png"))
            request_id = await self._provider().submit(request)
        except RateLimited:  # refused outright, nothing started: try again next round
            await self.storage.jobs.requeue(job.id, started + self.poll)
            return
        except ProviderError as exc:
            await self._fail(job, failure_of(exc), exc.reason)
            return
        await self.storage.jobs.mark_submitted(job.id, request_id, started + self.poll)

    async def _poll(self, job: VideoJob, request_id: str, started: datetime) -> None:
        try:
            status = await self._provider().poll(request_id)
        except TRANSIENT:
            await self.storage.jobs.schedule_poll(job.id, self.next_poll(job, started))
            return
        except ProviderError as exc:
            await self._fail(job, failure_of(exc), exc.reason)
            return
        if status.state is VideoState.PENDING:
            await self.storage.jobs.schedule_poll(job.id, self.next_poll(job, started))
        elif status.state is VideoState.DONE and status.url:
            await self._download(job, status.url, status.cost_usd, started)
        else:
            expired = status.state is VideoState.EXPIRED
            failure = JobFailure.EXPIRED if expired else JobFailure.VIDEO_FAILED
            await self._fail(job, failure, status.reason)

    async def _download(
        self, job: VideoJob, url: str, cost_usd: float | None, started: datetime
    ) -> None:
        await self.storage.jobs.begin_download(job.id)
        media = self.storage.media
        temp = media.video_temp_path(job.scene_id)
        try:
            await self._provider().download(url, temp, self.max_bytes)
        except TRANSIENT:
            await self.storage.jobs.retry_download(job.id, started + self.poll)
            return
        except (TooLarge, ProviderError) as exc:
            await media.discard(temp)
            await self._fail(job, failure_of(exc), exc.reason)
            return
        except OSError as exc:  # our disk (full, read-only): the URL lives 24 h, so try again
            log.warning("video job %s: could not store the download (%s)", job.id, exc.strerror)
            await media.discard(temp)
            await self.storage.jobs.retry_download(job.id, started + self.poll)
            return
        await media.commit_video(job.scene_id, temp)
        await self.storage.jobs.mark_done(job.id)
        await self._settle(job, succeeded=True, cost_usd=cost_usd)

    async def _fail(
        self, job: VideoJob, failure: JobFailure, provider_reason: str | None = None
    ) -> None:
        await self.storage.jobs.fail(job.id, failure, provider_reason)
        await self._settle(job, succeeded=False)
        level = logging.WARNING if failure in _FOR_OPERATORS else logging.INFO
        log.log(level, "video job %s failed: %s (%s)", job.id, failure, provider_reason or "")

    async def _guarded(self, job: VideoJob, move: Awaitable[None], unexpected: str) -> bool:
        """Make one move of `job`; False after an unexpected error (logged). A job that moved
        elsewhere meanwhile (finished, deleted, or its lease lost) is left to whoever moved it."""
        try:
            await move
        except (IllegalTransition, NotFound):
            log.info("video job %s moved elsewhere (e.g. Regenerate); dropped", job.id)
        except Exception:
            log.exception("video job %s %s", job.id, unexpected)
            return False
        return True

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
