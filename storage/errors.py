"""Errors raised by storage/; the bot maps them to member-facing text."""

from __future__ import annotations

from datetime import datetime


class StorageError(Exception):
    """Base class of every error storage/ raises on purpose."""


class SchemaTooNew(StorageError):
    """The database was written by a newer StoryBot; refusing beats corrupting it."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(f"database schema version {found} is newer than this code ({known})")
        self.found = found
        self.known = known


class ConstraintViolation(StorageError):
    """A write broke a constraint of the schema; `kind` is 'unique', 'foreign_key' or 'other'.

    Both backends raise it in place of their driver's integrity error."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class NotFound(StorageError):
    """The row asked for does not exist (deleted, or never created)."""

    def __init__(self, what: str, row_id: int) -> None:
        super().__init__(f"{what} {row_id} not found")
        self.what = what
        self.row_id = row_id


class IllegalTransition(StorageError):
    """A video job was asked to move to a state its current state cannot reach."""

    def __init__(self, job_id: int, current: str, target: str) -> None:
        super().__init__(f"video job {job_id}: {current} -> {target} is not allowed")
        self.job_id = job_id
        self.current = current
        self.target = target


class LeaseLost(IllegalTransition):
    """The job is in the right state but leased to another worker (or the lease ran out):
    another process works on it now, so this one must drop what it was doing."""

    def __init__(self, job_id: int, current: str, target: str) -> None:
        super().__init__(job_id, current, target)
        self.args = (f"video job {job_id}: not leased to this worker ({current} -> {target})",)


class JobAlreadyActive(StorageError):
    """The scene already has an unfinished video job (a second Animate is refused)."""

    def __init__(self, scene_id: int) -> None:
        super().__init__(f"scene {scene_id} already has an unfinished video job")
        self.scene_id = scene_id


class QuotaExceeded(StorageError):
    """A reservation would go over a daily limit; `scope` is 'guild' or 'member'."""

    def __init__(self, scope: str, kind: str, limit: int, resets_at: datetime) -> None:
        super().__init__(f"{scope} {kind} quota of {limit} per day reached")
        self.scope = scope
        self.kind = kind
        self.limit = limit
        self.resets_at = resets_at
