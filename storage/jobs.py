"""Video jobs (SPEC §8) as a state machine kept in SQLite, so restarts lose nothing.

    queued ──► submitting ──► submitted ──► downloading ──► done
                                 ▲  │ ▲            │
                     poll again  └──┘ └────────────┘  download failed, or restart
    any unfinished state ──► failed (with a JobFailure code, and the provider's own words)

Any process may work on any job (SPEC §11). A worker first claims due jobs with a lease:
its owner id and an expiry (≤ 30 s, renewed while it works), taken with FOR UPDATE SKIP LOCKED
on PostgreSQL. A job whose lease expired is claimable again by the same query. Every move is
one `UPDATE … WHERE id = ? AND state IN (legal sources) AND the lease is this worker's`: two
workers racing for the same move cannot both win, and the loser gets IllegalTransition
(LeaseLost when another process holds the job).

`submitting` is the hazard: the request may or may not have reached the provider. The
provider's request id is committed in the same statement that leaves `submitting`, so a job
whose worker died in `submitting` (its lease ran out, or the one process restarted) is failed
as `interrupted` and reported; it is never sent again (pressing Animate again starts
a new job). A download cut short goes back to polling: the provider's URL lives 24 hours.

`done` means the MP4 is safely on disk; `reported` says the scene message shows the outcome,
so a finished video is not lost when a Discord edit fails (see `unreported`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from storage.clock import Clock, from_db_time, to_db_time, utc_now
from storage.errors import (
    ConstraintViolation,
    IllegalTransition,
    JobAlreadyActive,
    LeaseLost,
    NotFound,
    StorageError,
)
from storage.sql import Backend, Row


class JobState(StrEnum):
    """Where a video job is in its life."""

    QUEUED = "queued"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    DOWNLOADING = "downloading"
    DONE = "done"
    FAILED = "failed"


class JobFailure(StrEnum):
    """Why a job failed, as stored; bot/errors.py words it for members."""

    DECLINED = "declined"  # the provider refused the prompt or withheld the video
    BUSY = "busy"  # rate-limited or unavailable past the retries
    PROVIDER_TIMEOUT = "provider_timeout"  # a call to the provider took too long
    MODEL_GONE = "model_gone"  # the provider says the video model does not exist
    MISCONFIGURED = "misconfigured"  # the key or the model entry is wrong
    TOO_LARGE = "too_large"  # the MP4 exceeds the download cap
    UNUSABLE = "unusable"  # an answer that could not be read
    PROVIDER_ERROR = "provider_error"  # any other error of a provider call
    VIDEO_FAILED = "video_failed"  # the provider's job ended `failed`
    EXPIRED = "expired"  # the provider's job expired, or it no longer knows it
    TIMED_OUT = "timed_out"  # not done within VIDEO_TIMEOUT_SECONDS
    PICTURE_CHANGED = "picture_changed"  # the scene was redrawn before the job was sent
    INTERNAL = "internal"  # an unexpected error on our side (logged)
    INTERRUPTED = "interrupted"  # its process died while sending it: never sent again
    SUPERSEDED = "superseded"  # Regenerate dropped it with the old picture


ACTIVE_STATES: Final = frozenset(
    {JobState.QUEUED, JobState.SUBMITTING, JobState.SUBMITTED, JobState.DOWNLOADING}
)
TRANSITIONS: Final[Mapping[JobState, frozenset[JobState]]] = {
    JobState.QUEUED: frozenset({JobState.SUBMITTING, JobState.FAILED}),
    # Back to queued only when the provider refused the request outright (a rate limit):
    # nothing was started, so sending it again later cannot make a second video.
    JobState.SUBMITTING: frozenset({JobState.QUEUED, JobState.SUBMITTED, JobState.FAILED}),
    JobState.SUBMITTED: frozenset({JobState.SUBMITTED, JobState.DOWNLOADING, JobState.FAILED}),
    JobState.DOWNLOADING: frozenset({JobState.DONE, JobState.SUBMITTED, JobState.FAILED}),
    JobState.DONE: frozenset(),
    JobState.FAILED: frozenset(),
}
log = logging.getLogger(__name__)

DEFAULT_LEASE: Final = timedelta(seconds=30)
MAX_LEASE: Final = timedelta(seconds=30)


def is_legal(current: JobState, target: JobState) -> bool:
    """Whether a job in `current` may move to `target`."""
    return target in TRANSITIONS[current]


@dataclass(frozen=True, slots=True)
class VideoJob:
    """A video job row; `image_version` is the scene image the video animates."""

    id: int
    scene_id: int
    guild_id: int
    channel_id: int
    message_id: int | None
    image_version: int
    usage_id: int | None  # the video's quota reservation, settled when the job finishes
    state: JobState
    provider_request_id: str | None
    reason: JobFailure | None  # why it failed
    provider_reason: str | None  # the provider's own words about it, if it gave any
    attempts: int  # polls so far; drives the back-off of VideoService.next_poll
    reported: bool
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    next_poll_at: datetime
    lease_owner: str | None = None
    lease_until: datetime | None = None

    @property
    def finished(self) -> bool:
        """Done or failed: nothing more will happen to this job."""
        return self.state not in ACTIVE_STATES


@dataclass(frozen=True, slots=True)
class JobRecovery:
    """What `recover_after_restart` did: the bot tells the channels of `interrupted`."""

    interrupted: list[VideoJob]
    resumed_downloads: list[VideoJob]


def _failure(row: Row) -> tuple[JobFailure | None, str | None]:
    """The stored code and the provider's words. A process of an older version may still write
    a sentence (several processes on one PostgreSQL): it is kept as the provider's words."""
    code, words = row["reason"], row["provider_reason"]
    if code is None:
        return None, words
    try:
        return JobFailure(code), words
    except ValueError:
        return JobFailure.VIDEO_FAILED, code


def _job(row: Row) -> VideoJob:
    submitted_at, lease_until = row["submitted_at"], row["lease_until"]
    reason, provider_reason = _failure(row)
    return VideoJob(
        id=row["id"],
        scene_id=row["scene_id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        image_version=row["image_version"],
        usage_id=row["usage_id"],
        state=JobState(row["state"]),
        provider_request_id=row["provider_request_id"],
        reason=reason,
        provider_reason=provider_reason,
        attempts=row["attempts"],
        reported=bool(row["reported"]),
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        submitted_at=from_db_time(submitted_at) if submitted_at is not None else None,
        next_poll_at=from_db_time(row["next_poll_at"]),
        lease_owner=row["lease_owner"],
        lease_until=from_db_time(lease_until) if lease_until is not None else None,
    )


_INSERT = """INSERT INTO video_jobs (scene_id, guild_id, channel_id, message_id, image_version,
        usage_id, created_at, updated_at, next_poll_at)
    VALUES (:scene_id, :guild_id, :channel_id, :message_id, :image_version, :usage_id,
        :now, :now, :now)
    RETURNING *"""

# Every move goes through this one statement; NULL parameters keep the column as it is.
# The four source slots are padded with NULL, which matches no state. A move into a risky
# step (sending, downloading) renews the lease (`:hold` = 1); any other move ends the
# worker's turn and frees the job for whichever process claims it next.
_MOVE = """UPDATE video_jobs SET
        state = :target,
        updated_at = :now,
        provider_request_id = COALESCE(:request_id, provider_request_id),
        submitted_at = COALESCE(:submitted_at, submitted_at),
        next_poll_at = COALESCE(:next_poll_at, next_poll_at),
        reason = COALESCE(:reason, reason),
        provider_reason = COALESCE(:provider_reason, provider_reason),
        attempts = attempts + :polled,
        lease_owner = CASE WHEN :hold = 1 THEN lease_owner ELSE NULL END,
        lease_until = CASE WHEN :hold = 1 THEN :lease_end ELSE NULL END
    WHERE id = :id AND state IN (:s0, :s1, :s2, :s3)
        AND lease_owner = :owner AND lease_until > :now
    RETURNING *"""

# The subquery walks the partial index video_jobs_due (unfinished rows only) and takes the
# jobs whose lease is free, expired or already this worker's; {lock} is FOR UPDATE SKIP
# LOCKED on PostgreSQL, so concurrent claimers pass over each other's rows.
_CLAIM = """UPDATE video_jobs SET lease_owner = :owner, lease_until = :lease_end
    WHERE id IN (
        SELECT id FROM video_jobs
        WHERE state IN ('queued', 'submitted') AND next_poll_at <= :now
            AND (lease_until IS NULL OR lease_until <= :now)
        ORDER BY next_poll_at LIMIT :limit {lock})
    RETURNING *"""

# A worker that died: the jobs whose lease ran out (several processes), or every leased job
# (`:all_leases` = 1: the one process restarted, nobody else works here).
_INTERRUPT = """UPDATE video_jobs SET state = 'failed', reason = :reason, updated_at = :now,
        lease_owner = NULL, lease_until = NULL
    WHERE state = 'submitting'
        AND (:all_leases = 1 OR lease_until IS NULL OR lease_until <= :now)
    RETURNING *"""
_RELEASE_INTERRUPTED = """UPDATE usage SET outcome = 'failed'
    WHERE outcome = 'pending' AND id IN (SELECT usage_id FROM video_jobs
        WHERE state = 'submitting' AND usage_id IS NOT NULL
            AND (:all_leases = 1 OR lease_until IS NULL OR lease_until <= :now))"""
_RESUME = """UPDATE video_jobs SET state = 'submitted', next_poll_at = :now, updated_at = :now,
        lease_owner = NULL, lease_until = NULL
    WHERE state = 'downloading'
        AND (:all_leases = 1 OR lease_until IS NULL OR lease_until <= :now)
    RETURNING *"""
_CLAIM_ONE = """UPDATE video_jobs SET lease_owner = :owner, lease_until = :lease_end
    WHERE id = :id AND state IN ('queued', 'submitting', 'submitted', 'downloading')
        AND (lease_until IS NULL OR lease_until <= :now)
    RETURNING *"""
_END_LEASES = """UPDATE video_jobs SET lease_owner = NULL, lease_until = NULL
    WHERE state IN ('queued', 'submitted')"""
_RENEW = """UPDATE video_jobs SET lease_until = :lease_end
    WHERE lease_owner = :owner AND lease_until > :now
        AND state IN ('queued', 'submitting', 'submitted', 'downloading')"""


class VideoJobRepository:
    """Reads `video_jobs` and moves jobs along the state machine, one atomic UPDATE per move."""

    def __init__(
        self, db: Backend, clock: Clock = utc_now, *, lease: timedelta = DEFAULT_LEASE
    ) -> None:
        if not timedelta(0) < lease <= MAX_LEASE:
            raise ValueError(f"a lease lasts more than 0 and at most {MAX_LEASE}, not {lease}")
        self._db = db
        self._clock = clock
        self.lease = lease
        # Unique per repository: two processes, or two Storages of one test, never share it.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._claim = _CLAIM.format(lock=db.claim_lock)

    async def create(
        self,
        *,
        scene_id: int,
        guild_id: int,
        channel_id: int,
        message_id: int | None,
        image_version: int,
        usage_id: int | None = None,
    ) -> VideoJob:
        """Queue a job for the scene; JobAlreadyActive if it has an unfinished one."""
        params = {
            "usage_id": usage_id,
            "scene_id": scene_id,
            "guild_id": guild_id,
            "channel_id": channel_id,
            "message_id": message_id,
            "image_version": image_version,
            "now": to_db_time(self._clock()),
        }
        try:
            row = await self._db.fetch_returning(_INSERT, params)
        except ConstraintViolation as exc:
            if exc.kind == "unique":
                raise JobAlreadyActive(scene_id) from exc
            raise NotFound("scene", scene_id) from exc
        return _job(row)

    async def get(self, job_id: int) -> VideoJob | None:
        """The job with this id, or None."""
        row = await self._db.fetch_one("SELECT * FROM video_jobs WHERE id = ?", (job_id,))
        return _job(row) if row is not None else None

    async def for_scene(self, scene_id: int) -> VideoJob | None:
        """The scene's latest job, finished or not (Animate checks it)."""
        row = await self._db.fetch_one(
            "SELECT * FROM video_jobs WHERE scene_id = ? ORDER BY id DESC LIMIT 1", (scene_id,)
        )
        return _job(row) if row is not None else None

    async def claim_due(
        self, *, now: datetime | None = None, limit: int = 10, take_over: bool = True
    ) -> list[VideoJob]:
        """Lease queued jobs and submitted jobs due for a poll to this worker. First (unless
        `take_over` is False: a caller that claims many times a second does it less often) the
        jobs of workers whose lease ran out are taken over (see `take_over_expired`); a claimed
        job that is not moved on becomes claimable again when its lease ends."""
        moment = now if now is not None else self._clock()
        if take_over:
            await self.take_over_expired(now=moment)
        params = {
            "now": to_db_time(moment),
            "lease_end": to_db_time(moment + self.lease),
            "limit": limit,
            "owner": self.owner,
        }
        rows = await self._db.fetch_all(self._claim, params)
        return sorted((_job(row) for row in rows), key=lambda job: job.id)

    async def claim(self, job_id: int, *, now: datetime | None = None) -> VideoJob | None:
        """Lease one unfinished job to this worker if nobody holds it; None otherwise."""
        moment = now if now is not None else self._clock()
        params = {
            "id": job_id,
            "now": to_db_time(moment),
            "lease_end": to_db_time(moment + self.lease),
            "owner": self.owner,
        }
        row = await self._db.fetch_one(_CLAIM_ONE, params)
        return _job(row) if row is not None else None

    async def take_over_expired(
        self, *, now: datetime | None = None, all_leases: bool = False
    ) -> JobRecovery:
        """The jobs of a worker that died (its lease ran out; `all_leases`: every lease, when
        the one process restarted): `submitting` → failed "interrupted", its quota slot freed,
        never sent again; `downloading` → `submitted`, due now."""
        moment = now if now is not None else self._clock()
        params = {"now": to_db_time(moment), "all_leases": int(all_leases)}
        async with self._db.transaction() as tx:
            await tx.execute(_RELEASE_INTERRUPTED, params)
            interrupted = await tx.fetch_all(
                _INTERRUPT, params | {"reason": JobFailure.INTERRUPTED.value}
            )
            resumed = await tx.fetch_all(_RESUME, params)
            if all_leases:
                await tx.execute(_END_LEASES)
        return JobRecovery(
            interrupted=sorted((_job(row) for row in interrupted), key=lambda job: job.id),
            resumed_downloads=sorted((_job(row) for row in resumed), key=lambda job: job.id),
        )

    async def renew_leases(self, *, now: datetime | None = None) -> int:
        """Push back the expiry of every lease this worker holds; returns how many."""
        moment = now if now is not None else self._clock()
        params = {
            "now": to_db_time(moment),
            "lease_end": to_db_time(moment + self.lease),
            "owner": self.owner,
        }
        return await self._db.execute(_RENEW, params)

    @asynccontextmanager
    async def leases_kept(self) -> AsyncIterator[None]:
        """Renew this worker's leases every third of a lease while the block runs."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.lease.total_seconds() / 3)
                try:
                    await self.renew_leases()
                except (StorageError, OSError) as exc:  # the next round tries again
                    log.warning("could not renew video job leases: %s", exc)

        task = asyncio.create_task(renew())
        try:
            yield
        finally:
            task.cancel()
            # Waited for, not awaited: `await task` would raise its CancelledError, and
            # suppressing that would also swallow a cancel of this block's own task (a loop
            # being stopped), which then carried on after its database was closed.
            await asyncio.wait({task})

    async def claim_plan(self) -> list[str]:
        """SQLite's EXPLAIN QUERY PLAN of the claim statement (the bench and a test check
        the index)."""
        params = {"now": "", "lease_end": "", "limit": 1, "owner": ""}
        rows = await self._db.fetch_all(f"EXPLAIN QUERY PLAN {self._claim}", params)
        return [str(row["detail"]) for row in rows]

    async def begin_submit(self, job_id: int) -> VideoJob:
        """queued → submitting, right before the request is sent; only one caller wins."""
        return await self._move(job_id, {JobState.QUEUED}, JobState.SUBMITTING, hold=True)

    async def requeue(self, job_id: int, next_poll_at: datetime) -> VideoJob:
        """submitting → queued: the provider rate-limited the submit, so nothing started."""
        return await self._move(
            job_id, {JobState.SUBMITTING}, JobState.QUEUED, next_poll_at=next_poll_at
        )

    async def mark_submitted(
        self, job_id: int, request_id: str, next_poll_at: datetime
    ) -> VideoJob:
        """submitting → submitted; commit the provider's request id the moment it is known."""
        return await self._move(
            job_id,
            {JobState.SUBMITTING},
            JobState.SUBMITTED,
            request_id=request_id,
            submitted_at=self._clock(),
            next_poll_at=next_poll_at,
        )

    async def schedule_poll(self, job_id: int, next_poll_at: datetime) -> VideoJob:
        """submitted → submitted: the provider said pending; poll again at `next_poll_at`."""
        return await self._move(
            job_id, {JobState.SUBMITTED}, JobState.SUBMITTED, next_poll_at=next_poll_at, polled=1
        )

    async def begin_download(self, job_id: int) -> VideoJob:
        """submitted → downloading: the provider said done with a URL."""
        return await self._move(
            job_id, {JobState.SUBMITTED}, JobState.DOWNLOADING, polled=1, hold=True
        )

    async def retry_download(self, job_id: int, next_poll_at: datetime) -> VideoJob:
        """downloading → submitted: the download failed; poll for a fresh URL later."""
        return await self._move(
            job_id, {JobState.DOWNLOADING}, JobState.SUBMITTED, next_poll_at=next_poll_at
        )

    async def mark_done(self, job_id: int) -> VideoJob:
        """downloading → done: the MP4 is committed to disk (the message is `reported` next)."""
        return await self._move(job_id, {JobState.DOWNLOADING}, JobState.DONE)

    async def fail(
        self, job_id: int, reason: JobFailure, provider_reason: str | None = None
    ) -> VideoJob:
        """Any unfinished state → failed, keeping why and the provider's own words."""
        return await self._move(
            job_id,
            set(ACTIVE_STATES),
            JobState.FAILED,
            reason=JobFailure(reason),
            provider_reason=provider_reason,
        )

    async def cancel_active(self, scene_id: int) -> VideoJob | None:
        """Fail the scene's unfinished job as superseded, if any (Regenerate drops the old
        picture's video).

        Marked reported: the caller is replacing the message itself. A worker still holding
        the job gets IllegalTransition on its next move and must drop its result.
        """
        row = await self._db.fetch_one(
            """UPDATE video_jobs SET state = 'failed', reason = ?, reported = 1, updated_at = ?
                WHERE scene_id = ?
                AND state IN ('queued', 'submitting', 'submitted', 'downloading')
                RETURNING *""",
            (JobFailure.SUPERSEDED.value, to_db_time(self._clock()), scene_id),
        )
        return _job(row) if row is not None else None

    async def unreported(self, limit: int = 50) -> list[VideoJob]:
        """Finished jobs whose outcome the scene message does not show yet."""
        rows = await self._db.fetch_all(
            """SELECT * FROM video_jobs WHERE reported = 0 AND state IN ('done', 'failed')
                ORDER BY id LIMIT ?""",
            (limit,),
        )
        return [_job(row) for row in rows]

    async def mark_reported(self, job_id: int) -> bool:
        """The message now shows this finished job's outcome; False if it is not finished."""
        changed = await self._db.execute(
            "UPDATE video_jobs SET reported = 1 WHERE id = ? AND state IN ('done', 'failed')",
            (job_id,),
        )
        return changed > 0

    async def recover_after_restart(
        self, *, now: datetime | None = None, shared: bool = False
    ) -> JobRecovery:
        """Run once at start, before the loop. Alone on the database (SQLite, one process),
        every lease belonged to the previous run: all are taken over and end now. On a
        `shared` database other processes may be working: only expired leases are."""
        return await self.take_over_expired(now=now, all_leases=not shared)

    async def _move(
        self,
        job_id: int,
        sources: set[JobState],
        target: JobState,
        *,
        request_id: str | None = None,
        submitted_at: datetime | None = None,
        next_poll_at: datetime | None = None,
        reason: JobFailure | None = None,
        provider_reason: str | None = None,
        polled: int = 0,
        hold: bool = False,
    ) -> VideoJob:
        if len(sources) > 4 or not all(is_legal(source, target) for source in sources):
            raise ValueError(f"bug: {sorted(sources)} -> {target} does not fit TRANSITIONS")
        slots: list[str | None] = [*sorted(sources), None, None, None, None]
        params: dict[str, object] = {f"s{i}": slots[i] for i in range(4)}
        moment = self._clock()
        params |= {
            "id": job_id,
            "target": target.value,
            "now": to_db_time(moment),
            "owner": self.owner,
            "hold": int(hold),
            "lease_end": to_db_time(moment + self.lease),
            "request_id": request_id,
            "submitted_at": to_db_time(submitted_at) if submitted_at else None,
            "next_poll_at": to_db_time(next_poll_at) if next_poll_at else None,
            "reason": reason.value if reason is not None else None,
            "provider_reason": provider_reason,
            "polled": polled,
        }
        row = await self._db.fetch_one(_MOVE, params)
        if row is not None:
            return _job(row)
        current = await self.get(job_id)
        if current is None:
            raise NotFound("video job", job_id)
        if current.state in sources:  # the right state, but not this worker's lease
            raise LeaseLost(job_id, current.state.value, target.value)
        raise IllegalTransition(job_id, current.state.value, target.value)
