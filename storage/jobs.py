"""Video jobs (SPEC §8) as a state machine kept in SQLite, so restarts lose nothing.

    queued ──► submitting ──► submitted ──► downloading ──► done
                                 ▲  │ ▲            │
                     poll again  └──┘ └────────────┘  download failed, or restart
    any unfinished state ──► failed (with a reason)

Every move is one `UPDATE … WHERE id = ? AND state IN (legal sources)`: two workers racing
for the same move cannot both win, and the loser gets IllegalTransition.

`submitting` is the hazard: the request may or may not have reached the provider. The
provider's request id is committed in the same statement that leaves `submitting`, so a job
still in `submitting` after a restart is failed with reason "interrupted" and reported; it is
never sent again (pressing Animate again starts a new job).

`done` means the MP4 is safely on disk; `reported` says the scene message shows the outcome,
so a finished video is not lost when a Discord edit fails (see `unreported`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from storage.clock import Clock, from_db_time, to_db_time, utc_now
from storage.errors import ConstraintViolation, IllegalTransition, JobAlreadyActive, NotFound
from storage.sql import Backend, Row


class JobState(StrEnum):
    """Where a video job is in its life."""

    QUEUED = "queued"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    DOWNLOADING = "downloading"
    DONE = "done"
    FAILED = "failed"


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
INTERRUPTED: Final = "interrupted"
SUPERSEDED: Final = "superseded"
DEFAULT_LEASE: Final = timedelta(seconds=60)


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
    reason: str | None
    attempts: int  # polls so far; drives the loop's back-off
    reported: bool
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    next_poll_at: datetime

    @property
    def finished(self) -> bool:
        """Done or failed: nothing more will happen to this job."""
        return self.state not in ACTIVE_STATES


@dataclass(frozen=True, slots=True)
class JobRecovery:
    """What `recover_after_restart` did: the bot tells the channels of `interrupted`."""

    interrupted: list[VideoJob]
    resumed_downloads: list[VideoJob]


def _job(row: Row) -> VideoJob:
    submitted_at = row["submitted_at"]
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
        reason=row["reason"],
        attempts=row["attempts"],
        reported=bool(row["reported"]),
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        submitted_at=from_db_time(submitted_at) if submitted_at is not None else None,
        next_poll_at=from_db_time(row["next_poll_at"]),
    )


_INSERT = """INSERT INTO video_jobs (scene_id, guild_id, channel_id, message_id, image_version,
        usage_id, created_at, updated_at, next_poll_at)
    VALUES (:scene_id, :guild_id, :channel_id, :message_id, :image_version, :usage_id,
        :now, :now, :now)
    RETURNING *"""

# Every move goes through this one statement; NULL parameters keep the column as it is.
# The four source slots are padded with NULL, which matches no state.
_MOVE = """UPDATE video_jobs SET
        state = :target,
        updated_at = :now,
        provider_request_id = COALESCE(:request_id, provider_request_id),
        submitted_at = COALESCE(:submitted_at, submitted_at),
        next_poll_at = COALESCE(:next_poll_at, next_poll_at),
        reason = COALESCE(:reason, reason),
        attempts = attempts + :polled
    WHERE id = :id AND state IN (:s0, :s1, :s2, :s3)
    RETURNING *"""

# The subquery walks the partial index video_jobs_due (unfinished rows only); pushing
# next_poll_at to the lease end hides the claimed jobs from every other claimer.
_CLAIM = """UPDATE video_jobs SET next_poll_at = :lease_end
    WHERE id IN (
        SELECT id FROM video_jobs
        WHERE state IN ('queued', 'submitted') AND next_poll_at <= :now
        ORDER BY next_poll_at LIMIT :limit {lock})
    RETURNING *"""


class VideoJobRepository:
    """Reads `video_jobs` and moves jobs along the state machine, one atomic UPDATE per move."""

    def __init__(self, db: Backend, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock
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
        self, *, now: datetime | None = None, limit: int = 10, lease: timedelta = DEFAULT_LEASE
    ) -> list[VideoJob]:
        """Queued jobs and submitted jobs due for a poll, hidden from other claimers for
        `lease`; a claimed job that is not moved on becomes due again when the lease ends."""
        moment = now if now is not None else self._clock()
        params = {
            "now": to_db_time(moment),
            "lease_end": to_db_time(moment + lease),
            "limit": limit,
        }
        rows = await self._db.fetch_all(self._claim, params)
        return sorted((_job(row) for row in rows), key=lambda job: job.id)

    async def claim_plan(self) -> list[str]:
        """SQLite's EXPLAIN QUERY PLAN of the claim statement (the bench and a test check
        the index)."""
        params = {"now": "", "lease_end": "", "limit": 1}
        rows = await self._db.fetch_all(f"EXPLAIN QUERY PLAN {self._claim}", params)
        return [str(row["detail"]) for row in rows]

    async def begin_submit(self, job_id: int) -> VideoJob:
        """queued → submitting, right before the request is sent; only one caller wins."""
        return await self._move(job_id, {JobState.QUEUED}, JobState.SUBMITTING)

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
        return await self._move(job_id, {JobState.SUBMITTED}, JobState.DOWNLOADING, polled=1)

    async def retry_download(self, job_id: int, next_poll_at: datetime) -> VideoJob:
        """downloading → submitted: the download failed; poll for a fresh URL later."""
        return await self._move(
            job_id, {JobState.DOWNLOADING}, JobState.SUBMITTED, next_poll_at=next_poll_at
        )

    async def mark_done(self, job_id: int) -> VideoJob:
        """downloading → done: the MP4 is committed to disk (the message is `reported` next)."""
        return await self._move(job_id, {JobState.DOWNLOADING}, JobState.DONE)

    async def fail(self, job_id: int, reason: str) -> VideoJob:
        """Any unfinished state → failed, keeping why (shown to the member)."""
        return await self._move(job_id, set(ACTIVE_STATES), JobState.FAILED, reason=reason)

    async def cancel_active(self, scene_id: int, reason: str = SUPERSEDED) -> VideoJob | None:
        """Fail the scene's unfinished job, if any (Regenerate drops the old picture's video).

        Marked reported: the caller is replacing the message itself. A worker still holding
        the job gets IllegalTransition on its next move and must drop its result.
        """
        row = await self._db.fetch_one(
            """UPDATE video_jobs SET state = 'failed', reason = ?, reported = 1, updated_at = ?
                WHERE scene_id = ?
                AND state IN ('queued', 'submitting', 'submitted', 'downloading')
                RETURNING *""",
            (reason, to_db_time(self._clock()), scene_id),
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

    async def recover_after_restart(self, *, now: datetime | None = None) -> JobRecovery:
        """Run once at start, before the loop and with no other StoryBot on this database.

        submitting → failed "interrupted" (the request may have been sent: never resend);
        downloading → submitted, due now (the provider's URL lives 24 h, a fresh poll is safe);
        leases of queued and submitted jobs end now, so polling carries on at once.
        """
        moment = now if now is not None else self._clock()
        params = {"now": to_db_time(moment), "reason": INTERRUPTED}
        async with self._db.transaction() as tx:
            interrupted = await tx.fetch_all(
                """UPDATE video_jobs SET state = 'failed', reason = :reason, updated_at = :now
                    WHERE state = 'submitting' RETURNING *""",
                params,
            )
            resumed = await tx.fetch_all(
                """UPDATE video_jobs SET state = 'submitted', next_poll_at = :now,
                    updated_at = :now WHERE state = 'downloading' RETURNING *""",
                params,
            )
            await tx.execute(
                """UPDATE video_jobs SET next_poll_at = :now
                    WHERE state IN ('queued', 'submitted') AND next_poll_at > :now""",
                params,
            )
        return JobRecovery(
            interrupted=sorted((_job(row) for row in interrupted), key=lambda job: job.id),
            resumed_downloads=sorted((_job(row) for row in resumed), key=lambda job: job.id),
        )

    async def _move(
        self,
        job_id: int,
        sources: set[JobState],
        target: JobState,
        *,
        request_id: str | None = None,
        submitted_at: datetime | None = None,
        next_poll_at: datetime | None = None,
        reason: str | None = None,
        polled: int = 0,
    ) -> VideoJob:
        if len(sources) > 4 or not all(is_legal(source, target) for source in sources):
            raise ValueError(f"bug: {sorted(sources)} -> {target} does not fit TRANSITIONS")
        slots: list[str | None] = [*sorted(sources), None, None, None, None]
        params: dict[str, object] = {f"s{i}": slots[i] for i in range(4)}
        params |= {
            "id": job_id,
            "target": target.value,
            "now": to_db_time(self._clock()),
            "request_id": request_id,
            "submitted_at": to_db_time(submitted_at) if submitted_at else None,
            "next_poll_at": to_db_time(next_poll_at) if next_poll_at else None,
            "reason": reason,
            "polled": polled,
        }
        row = await self._db.fetch_one(_MOVE, params)
        if row is None:
            current = await self.get(job_id)
            if current is None:
                raise NotFound("video job", job_id)
            raise IllegalTransition(job_id, current.state.value, target.value)
        return _job(row)
