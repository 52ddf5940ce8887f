"""Schema versions: an ordered list of migrations, `PRAGMA user_version` = the last applied.

Never edit a released migration; append a new one. Each runs in its own BEGIN IMMEDIATE
transaction together with the version bump, so a crash leaves the old version or the new one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

import aiosqlite

from storage.errors import SchemaTooNew

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Migration:
    """Schema version `version`: the statements that lead to it from `version - 1`."""

    version: int
    name: str
    statements: tuple[str, ...]


CORE = Migration(
    1,
    "guild settings, meta, stories, reference photos, scenes, usage ledger",
    (
        """CREATE TABLE guild_settings (
            guild_id INTEGER PRIMARY KEY,
            tier TEXT,
            default_model TEXT,
            video_default INTEGER NOT NULL DEFAULT 0 CHECK (video_default IN (0, 1))
        )""",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE stories (
            id INTEGER PRIMARY KEY,
            guild_id INTEGER NOT NULL,
            channel_id INTEGER NOT NULL,
            author_id INTEGER NOT NULL,
            premise TEXT NOT NULL,
            title TEXT NOT NULL,
            model_key TEXT NOT NULL,
            video_mode INTEGER NOT NULL CHECK (video_mode IN (0, 1)),
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX stories_by_member ON stories (guild_id, channel_id, author_id, id)",
        """CREATE TABLE reference_photos (
            story_id INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
            position INTEGER NOT NULL CHECK (position >= 0),
            file_name TEXT NOT NULL,
            mime_type TEXT NOT NULL,
            size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
            PRIMARY KEY (story_id, position)
        )""",
        """CREATE TABLE scenes (
            id INTEGER PRIMARY KEY,
            story_id INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
            number INTEGER NOT NULL CHECK (number >= 1),
            text TEXT NOT NULL,
            model_key TEXT NOT NULL,
            direction TEXT,
            image_version INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'ready', 'failed')),
            failure_reason TEXT,
            channel_id INTEGER NOT NULL,
            message_id INTEGER,
            created_at TEXT NOT NULL,
            UNIQUE (story_id, number)
        )""",
        """CREATE TABLE usage (
            id INTEGER PRIMARY KEY,
            guild_id INTEGER NOT NULL,
            member_id INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('scene', 'image', 'video')),
            model_key TEXT NOT NULL,
            cost_usd REAL NOT NULL CHECK (cost_usd >= 0),
            day TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX usage_by_guild_day ON usage (guild_id, day, kind)",
        "CREATE INDEX usage_by_member_day ON usage (guild_id, member_id, day, kind)",
    ),
)

# Version 1 wrote a row only after success; reservations add rows before the provider call
# (so concurrent requests cannot overshoot a quota). Old rows were all successes: 'ok'.
USAGE_OUTCOME = Migration(
    2,
    "usage reservations: outcome pending | ok | failed",
    (
        """ALTER TABLE usage ADD COLUMN outcome TEXT NOT NULL DEFAULT 'ok'
            CHECK (outcome IN ('pending', 'ok', 'failed'))""",
    ),
)

VIDEO_JOBS = Migration(
    3,
    "video jobs (SPEC §8)",
    (
        """CREATE TABLE video_jobs (
            id INTEGER PRIMARY KEY,
            scene_id INTEGER NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,
            guild_id INTEGER NOT NULL,
            channel_id INTEGER NOT NULL,
            message_id INTEGER,
            image_version INTEGER NOT NULL,
            usage_id INTEGER REFERENCES usage (id) ON DELETE SET NULL,
            state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN
                ('queued', 'submitting', 'submitted', 'downloading', 'done', 'failed')),
            provider_request_id TEXT,
            reason TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            reported INTEGER NOT NULL DEFAULT 0 CHECK (reported IN (0, 1)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            submitted_at TEXT,
            next_poll_at TEXT NOT NULL,
            CHECK (state <> 'failed' OR reason IS NOT NULL),
            CHECK (state NOT IN ('submitted', 'downloading', 'done')
                OR provider_request_id IS NOT NULL)
        )""",
        # The loop's query: only unfinished rows live in this index, so finished history
        # never slows down claiming.
        """CREATE INDEX video_jobs_due ON video_jobs (next_poll_at)
            WHERE state IN ('queued', 'submitted')""",
        # A second Animate on a scene with an unfinished job violates this: refused.
        """CREATE UNIQUE INDEX video_jobs_one_active_per_scene ON video_jobs (scene_id)
            WHERE state IN ('queued', 'submitting', 'submitted', 'downloading')""",
        """CREATE INDEX video_jobs_unreported ON video_jobs (id)
            WHERE reported = 0 AND state IN ('done', 'failed')""",
        "CREATE INDEX video_jobs_by_scene ON video_jobs (scene_id, id)",
    ),
)

# The number members see ("Scene 3") is stored, assigned when a scene is first drawn: two scenes
# of one story made at the same instant get their own numbers, and a scene whose drawing failed
# (never shown) takes none. Existing told scenes (drawn, or posted) are numbered in order.
TOLD_NUMBERS = Migration(
    4,
    "scenes.told_number: the scene number members see, gap-free over told scenes",
    (
        "ALTER TABLE scenes ADD COLUMN told_number INTEGER CHECK (told_number >= 1)",
        """UPDATE scenes SET told_number = (
                SELECT COUNT(*) FROM scenes AS earlier
                WHERE earlier.story_id = scenes.story_id AND earlier.number <= scenes.number
                    AND (earlier.status = 'ready' OR earlier.message_id IS NOT NULL))
            WHERE status = 'ready' OR message_id IS NOT NULL""",
        "CREATE UNIQUE INDEX scenes_told_number ON scenes (story_id, told_number)",
    ),
)

# With PostgreSQL, pictures, reference photos, MP4s and storybook films live here so every
# process reads them (SPEC §11); with SQLite they stay files under DATA_DIR, this table empty.
MEDIA = Migration(
    5,
    "media in the database (PostgreSQL)",
    (
        """CREATE TABLE media (
            kind TEXT NOT NULL CHECK (kind IN ('image', 'video', 'reference', 'film')),
            owner_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (kind, owner_id, name)
        )""",
    ),
)

# Any process may work on any job (SPEC §11): the worker holding it and until when.
JOB_LEASES = Migration(
    6,
    "video job leases: owner and expiry",
    (
        "ALTER TABLE video_jobs ADD COLUMN lease_owner TEXT",
        "ALTER TABLE video_jobs ADD COLUMN lease_until TEXT",
    ),
)

# Until version 7 `reason` held the sentence members read (or the codes interrupted, superseded).
# A failure is now a code (storage/jobs.py JobFailure) plus the provider's own words, and the
# sentence is made when shown (bot/errors.py). Every sentence the bot wrote maps to its code;
# what is left are the words of a job xAI failed. Video jobs were only ever xAI's.
FAILURE_CODES = Migration(
    7,
    "video job failures: a code plus the provider's own words",
    (
        "ALTER TABLE video_jobs ADD COLUMN provider_reason TEXT",
        "UPDATE video_jobs SET provider_reason = reason WHERE reason IS NOT NULL",
        """UPDATE video_jobs SET reason = CASE
                WHEN provider_reason IN ('interrupted', 'superseded') THEN provider_reason
                WHEN provider_reason = 'it was not ready in time' THEN 'timed_out'
                WHEN provider_reason = 'the picture changed' THEN 'picture_changed'
                WHEN provider_reason = 'something went wrong on our side' THEN 'internal'
                WHEN provider_reason LIKE 'The provider declined this prompt. xAI said: %'
                    THEN 'declined'
                WHEN provider_reason = 'xAI is busy right now; try again in a minute.'
                    THEN 'busy'
                WHEN provider_reason = 'xAI took too long to answer; try again.'
                    THEN 'provider_timeout'
                WHEN provider_reason = 'Grok Imagine Video is not available from xAI right now; '
                    || 'pick another model.' THEN 'model_gone'
                WHEN provider_reason = 'That model is unavailable on this bot right now; '
                    || 'pick another one from `/models`.' THEN 'misconfigured'
                WHEN provider_reason = 'xAI made a file larger than this bot accepts.'
                    THEN 'too_large'
                WHEN provider_reason = 'xAI sent back something unusable; try again.'
                    THEN 'unusable'
                WHEN provider_reason = 'xAI could not do this; try again, '
                    || 'or pick another model from `/models`.' THEN 'provider_error'
                WHEN provider_reason IN
                    ('the video expired', 'the job expired at xAI', 'xAI no longer knows this job')
                    THEN 'expired'
                ELSE 'video_failed' END
            WHERE provider_reason IS NOT NULL""",
        # Only the provider's words stay: a refusal's reason, and what xAI said of its job.
        """UPDATE video_jobs SET provider_reason = CASE
                WHEN reason = 'declined' THEN substr(provider_reason, 46)
                WHEN reason IN ('video_failed', 'expired')
                    AND provider_reason NOT IN ('the video failed', 'the video expired')
                    THEN provider_reason
                END
            WHERE provider_reason IS NOT NULL""",
    ),
)

MIGRATIONS: Final[tuple[Migration, ...]] = (
    CORE,
    USAGE_OUTCOME,
    VIDEO_JOBS,
    TOLD_NUMBERS,
    MEDIA,
    JOB_LEASES,
    FAILURE_CODES,
)
LATEST_VERSION: Final = MIGRATIONS[-1].version


async def schema_version(conn: aiosqlite.Connection) -> int:
    """The version recorded in the database file (0 for a new, empty one)."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None else 0


async def migrate(
    conn: aiosqlite.Connection,
    migrations: tuple[Migration, ...] = MIGRATIONS,
    upto: int | None = None,
) -> int:
    """Apply every migration after the database's version (up to `upto`); returns the version."""
    latest = migrations[-1].version if migrations else 0
    current = await schema_version(conn)
    if current > latest:
        raise SchemaTooNew(current, latest)
    target = latest if upto is None else upto
    for migration in migrations:
        if current < migration.version <= target:
            await _apply(conn, migration)
    return await schema_version(conn)


async def _apply(conn: aiosqlite.Connection, migration: Migration) -> None:
    await conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-read under the write lock: another process may have migrated meanwhile.
        if await schema_version(conn) < migration.version:
            for statement in migration.statements:
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {int(migration.version)}")
            log.info("applied migration %d: %s", migration.version, migration.name)
        await conn.commit()
    except BaseException:
        await conn.rollback()
        raise
