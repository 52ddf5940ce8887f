"""Migration 7 on both backends: a failed video job's sentence becomes a failure code plus the
provider's own words, and members read the same sentence as before (bot/errors.py makes it)."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import asyncpg

from bot.errors import video_failure_text
from storage import JobFailure, Storage
from storage.migrations import migrate
from storage.pg import migrate_postgres, to_numbered
from storage.store import DB_FILE_NAME

BEFORE = 6  # the last version whose `reason` held the sentence
WHEN = "2026-05-01T11:00:00.000000Z"
DECLINED = "The provider declined this prompt. xAI said: Rejected by content moderation."
# What version 6 stored → the code, the provider's words kept, and what members read now.
STORED: list[tuple[str, JobFailure, str | None, str]] = [
    ("interrupted", JobFailure.INTERRUPTED, None,
     "a restart interrupted it; press Animate to try again"),
    ("it was not ready in time", JobFailure.TIMED_OUT, None, "it was not ready in time"),
    ("the picture changed", JobFailure.PICTURE_CHANGED, None, "the picture changed"),
    ("something went wrong on our side", JobFailure.INTERNAL, None,
     "something went wrong on our side"),
    (DECLINED, JobFailure.DECLINED, "Rejected by content moderation.", DECLINED),
    ("xAI is busy right now; try again in a minute.", JobFailure.BUSY, None,
     "xAI is busy right now; try again in a minute."),
    ("xAI took too long to answer; try again.", JobFailure.PROVIDER_TIMEOUT, None,
     "xAI took too long to answer; try again."),
    ("Grok Imagine Video is not available from xAI right now; pick another model.",
     JobFailure.MODEL_GONE, None,
     "Grok Imagine Video is not available from xAI right now; pick another model."),
    ("That model is unavailable on this bot right now; pick another one from `/models`.",
     JobFailure.MISCONFIGURED, None,
     "That model is unavailable on this bot right now; pick another one from `/models`."),
    ("xAI made a file larger than this bot accepts.", JobFailure.TOO_LARGE, None,
     "xAI made a file larger than this bot accepts."),
    ("xAI sent back something unusable; try again.", JobFailure.UNUSABLE, None,
     "xAI sent back something unusable; try again."),
    ("xAI could not do this; try again, or pick another model from `/models`.",
     JobFailure.PROVIDER_ERROR, None,
     "xAI could not do this; try again, or pick another model from `/models`."),
    ("the video expired", JobFailure.EXPIRED, None, "the video expired"),
    ("the job expired at xAI", JobFailure.EXPIRED, "the job expired at xAI",
     "the job expired at xAI"),
    ("xAI no longer knows this job", JobFailure.EXPIRED, "xAI no longer knows this job",
     "xAI no longer knows this job"),
    ("the video failed", JobFailure.VIDEO_FAILED, None, "the video failed"),
    ("the GPU caught fire", JobFailure.VIDEO_FAILED, "the GPU caught fire",
     "the GPU caught fire"),
]  # fmt: skip


_JOB = """INSERT INTO video_jobs (id, scene_id, guild_id, channel_id, image_version, state,
    reason, provider_request_id, reported, created_at, updated_at, next_poll_at)
    VALUES (?, 70, 1001, 2002, 1, ?, ?, ?, 1, ?, ?, ?)"""
SEED: list[tuple[str, tuple[object, ...]]] = [
    ("INSERT INTO stories VALUES (7, 1001, 2002, 3003, 'a fox', 'Fox', 'gemini', 1, ?)", (WHEN,)),
    (
        """INSERT INTO scenes (id, story_id, number, text, model_key, image_version, status,
            channel_id, created_at) VALUES (70, 7, 1, 'Once', 'gemini', 1, 'ready', 2002, ?)""",
        (WHEN,),
    ),
    *(
        (_JOB, (job_id, "failed", stored, None, WHEN, WHEN, WHEN))
        for job_id, (stored, *_) in enumerate(STORED, start=1)
    ),
    # An unfinished job has no failure, before and after.
    (_JOB, (len(STORED) + 1, "submitted", None, "req-1", WHEN, WHEN, WHEN)),
]


async def _sqlite_at_version_6(data_dir: Path) -> None:
    async with aiosqlite.connect(data_dir / DB_FILE_NAME, isolation_level=None) as conn:
        assert await migrate(conn, upto=BEFORE) == BEFORE
        for statement, params in SEED:
            await conn.execute(statement, params)


async def _postgres_at_version_6(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        assert await migrate_postgres(conn, upto=BEFORE) == BEFORE
        for statement, params in SEED:
            await conn.execute(to_numbered(statement)[0], *params)
    finally:
        await conn.close()


async def test_failed_jobs_of_version_6_get_their_code_and_say_the_same_to_members(
    tmp_path: Path, database_url: str | None
) -> None:
    url = database_url  # the storage tests' fixture: SQLite, then a fresh PostgreSQL
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if url is None:
        await _sqlite_at_version_6(data_dir)
    else:
        await _postgres_at_version_6(url)
    storage = await Storage.open(data_dir, database_url=url)
    try:
        for job_id, (stored, code, words, shown) in enumerate(STORED, start=1):
            job = await storage.jobs.get(job_id)
            assert job is not None
            assert (job.reason, job.provider_reason) == (code, words), stored
            assert video_failure_text(job.reason, job.provider_reason) == shown
        pending = await storage.jobs.get(len(STORED) + 1)
        assert pending is not None
        assert (pending.reason, pending.provider_reason) == (None, None)
    finally:
        await storage.close()


async def test_a_sentence_an_older_process_still_writes_reads_as_the_providers_words(
    tmp_path: Path,
) -> None:
    """Several processes on one PostgreSQL are upgraded one by one: an old one may fail a job
    the old way after the migration ran. Members still read its sentence."""
    storage = await Storage.open(tmp_path / "data")
    try:
        for statement, params in SEED[:2]:
            await storage.db.execute(statement, params)
        await storage.db.execute(_JOB, (1, "failed", "the picture changed", None, *[WHEN] * 3))
        job = await storage.jobs.get(1)
        assert job is not None
        assert (job.reason, job.provider_reason) == (
            JobFailure.VIDEO_FAILED,
            "the picture changed",
        )
        assert video_failure_text(job.reason, job.provider_reason) == "the picture changed"
    finally:
        await storage.close()
