"""`Storage`: everything StoryBot remembers, opened once at start and handed to the bot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final

from storage.clock import Clock, utc_now
from storage.db import DEFAULT_BUSY_TIMEOUT_MS, open_database
from storage.guilds import GuildRepository, MetaRepository
from storage.jobs import DEFAULT_LEASE, VideoJob, VideoJobRepository
from storage.media import MediaStore
from storage.media_db import DatabaseMediaStore
from storage.scenes import SceneRepository
from storage.sql import Backend
from storage.stories import ReferencePhoto, StoryRepository
from storage.usage import UsageLedger

DB_FILE_NAME: Final = "storybot.db"
# Longer than an interaction token lives (15 min): no generation is still running by then.
STALE_RESERVATION: Final = timedelta(minutes=20)


@dataclass(frozen=True, slots=True)
class StartupRecovery:
    """What `Storage.recover_after_restart` found; the bot reports `interrupted_jobs`."""

    interrupted_jobs: list[VideoJob]
    resumed_downloads: list[VideoJob]
    released_reservations: int
    removed_temp_files: int


@dataclass(frozen=True, slots=True)
class Storage:
    """The repositories and the media store over one DATA_DIR."""

    db: Backend
    guilds: GuildRepository
    meta: MetaRepository
    stories: StoryRepository
    scenes: SceneRepository
    jobs: VideoJobRepository
    usage: UsageLedger
    media: MediaStore

    @classmethod
    async def open(
        cls,
        data_dir: Path,
        *,
        clock: Clock = utc_now,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        database_url: str | None = None,
        job_lease: timedelta = DEFAULT_LEASE,
    ) -> Storage:
        """Create DATA_DIR's folders, open and migrate the database: PostgreSQL at
        `database_url` when given, else SQLite at DATA_DIR/storybot.db."""
        # DATA_DIR holds SQLite's file and media, or (PostgreSQL) the temp files of downloads.
        await MediaStore(data_dir).create_folders()
        db: Backend
        media: MediaStore
        if database_url is not None:
            from storage.pg import open_postgres  # asyncpg is imported only for PostgreSQL

            db = await open_postgres(database_url)
            media = DatabaseMediaStore(data_dir, db)
        else:
            db = await open_database(data_dir / DB_FILE_NAME, busy_timeout_ms=busy_timeout_ms)
            media = MediaStore(data_dir)
        return cls(
            db=db,
            guilds=GuildRepository(db),
            meta=MetaRepository(db),
            stories=StoryRepository(db, clock),
            scenes=SceneRepository(db, clock),
            jobs=VideoJobRepository(db, clock, lease=job_lease),
            usage=UsageLedger(db, clock),
            media=media,
        )

    async def close(self) -> None:
        """Close the database connection."""
        await self.db.close()

    async def recover_after_restart(self) -> StartupRecovery:
        """Once at start, before the video loop runs: settle what a crash left half-done."""
        shared = self.db.shared
        jobs = await self.jobs.recover_after_restart(shared=shared)
        # On a shared database other processes hold reservations of generations in flight:
        # only those older than any generation can run are a dead process's.
        stale = STALE_RESERVATION if shared else None
        return StartupRecovery(
            interrupted_jobs=jobs.interrupted,
            resumed_downloads=jobs.resumed_downloads,
            released_reservations=await self.usage.release_pending(older_than=stale),
            removed_temp_files=await self.media.remove_temp_files(),
        )

    async def add_reference_photo(
        self, story_id: int, position: int, data: bytes, mime_type: str
    ) -> ReferencePhoto:
        """Store a reference photo's file, then its row (a crash in between leaves only an
        unreferenced file, never a row without its file)."""
        file_name = await self.media.save_reference(story_id, position, data, mime_type)
        photo = ReferencePhoto(story_id, position, file_name, mime_type, len(data))
        await self.stories.add_reference(photo)
        return photo

    async def delete_story(self, story_id: int) -> None:
        """Delete the story's rows (scenes, jobs, references cascade), then its files."""
        scene_ids = await self.stories.delete(story_id)
        await self.media.delete_story_media(story_id, scene_ids)
