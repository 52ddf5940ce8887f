"""Everything StoryBot remembers across restarts: SQLite through aiosqlite, media on disk."""

from storage.clock import Clock, next_utc_midnight, utc_now
from storage.errors import (
    IllegalTransition,
    JobAlreadyActive,
    LeaseLost,
    NotFound,
    QuotaExceeded,
    SchemaTooNew,
    StorageError,
)
from storage.guilds import GuildSettings
from storage.jobs import JobFailure, JobState, VideoJob
from storage.media import MediaStore
from storage.scenes import Scene, SceneStatus
from storage.store import StartupRecovery, Storage
from storage.stories import ReferencePhoto, Story, StoryDigest
from storage.usage import KindUsage, UsageEntry, UsageKind, UsageSummary

__all__ = [
    "Clock",
    "GuildSettings",
    "IllegalTransition",
    "JobAlreadyActive",
    "JobFailure",
    "JobState",
    "KindUsage",
    "LeaseLost",
    "MediaStore",
    "NotFound",
    "QuotaExceeded",
    "ReferencePhoto",
    "Scene",
    "SceneStatus",
    "SchemaTooNew",
    "StartupRecovery",
    "Storage",
    "StorageError",
    "Story",
    "StoryDigest",
    "UsageEntry",
    "UsageKind",
    "UsageSummary",
    "VideoJob",
    "next_utc_midnight",
    "utc_now",
]
