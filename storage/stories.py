"""Stories (premise, author, where, which model, video mode) and their stored reference photos."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from storage.clock import Clock, from_db_time, to_db_time, utc_now
from storage.errors import NotFound
from storage.sql import Backend, Row

_LIKE_SPECIALS = re.compile(r"[\\%_]")  # escaped so a typed title part matches literally


@dataclass(frozen=True, slots=True)
class Story:
    """A story started by a member in a channel."""

    id: int
    guild_id: int
    channel_id: int
    author_id: int
    premise: str
    title: str
    model_key: str
    video_mode: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReferencePhoto:
    """A reference photo row; the bytes live in references/{story_id}/{file_name}."""

    story_id: int
    position: int
    file_name: str
    mime_type: str
    size_bytes: int


def _story(row: Row) -> Story:
    return Story(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        author_id=row["author_id"],
        premise=row["premise"],
        title=row["title"],
        model_key=row["model_key"],
        video_mode=bool(row["video_mode"]),
        created_at=from_db_time(row["created_at"]),
    )


@dataclass(frozen=True, slots=True)
class StoryDigest:
    """A story as /story list shows it: how far it got, when, and where its latest scene is."""

    story: Story
    told_scenes: int
    last_activity: datetime
    latest_channel_id: int | None  # where the latest shown scene was posted, if anywhere
    latest_message_id: int | None


# Correlated subqueries over the (story_id, …) indexes: one statement, the same on both backends.
_DIGESTS = """SELECT stories.*,
        (SELECT COUNT(*) FROM scenes WHERE scenes.story_id = stories.id
            AND scenes.told_number IS NOT NULL) AS told_scenes,
        (SELECT MAX(scenes.created_at) FROM scenes
            WHERE scenes.story_id = stories.id) AS last_scene_at,
        (SELECT scenes.channel_id FROM scenes WHERE scenes.story_id = stories.id
            AND scenes.message_id IS NOT NULL ORDER BY scenes.told_number DESC LIMIT 1)
            AS latest_channel_id,
        (SELECT scenes.message_id FROM scenes WHERE scenes.story_id = stories.id
            AND scenes.message_id IS NOT NULL ORDER BY scenes.told_number DESC LIMIT 1)
            AS latest_message_id
    FROM stories WHERE guild_id = ? AND author_id = ? ORDER BY id DESC LIMIT ?"""


def _digest(row: Row) -> StoryDigest:
    story = _story(row)
    last = row["last_scene_at"]
    return StoryDigest(
        story=story,
        told_scenes=int(row["told_scenes"]),
        last_activity=from_db_time(last) if last is not None else story.created_at,
        latest_channel_id=row["latest_channel_id"],
        latest_message_id=row["latest_message_id"],
    )


def _reference(row: Row) -> ReferencePhoto:
    return ReferencePhoto(
        story_id=row["story_id"],
        position=row["position"],
        file_name=row["file_name"],
        mime_type=row["mime_type"],
        size_bytes=row["size_bytes"],
    )


class StoryRepository:
    """Reads and writes `stories` and `reference_photos`."""

    def __init__(self, db: Backend, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def create(
        self,
        *,
        guild_id: int,
        channel_id: int,
        author_id: int,
        premise: str,
        title: str,
        model_key: str,
        video_mode: bool,
    ) -> Story:
        """Insert a new story and return it with its id."""
        row = await self._db.fetch_returning(
            """INSERT INTO stories (guild_id, channel_id, author_id, premise, title,
                model_key, video_mode, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *""",
            (
                guild_id,
                channel_id,
                author_id,
                premise,
                title,
                model_key,
                int(video_mode),
                to_db_time(self._clock()),
            ),
        )
        return _story(row)

    async def get(self, story_id: int) -> Story | None:
        """The story with this id, or None."""
        row = await self._db.fetch_one("SELECT * FROM stories WHERE id = ?", (story_id,))
        return _story(row) if row is not None else None

    async def latest_for_member(
        self, *, guild_id: int, channel_id: int, author_id: int
    ) -> Story | None:
        """The member's most recent story in this channel (what /story continue continues)."""
        row = await self._db.fetch_one(
            """SELECT * FROM stories WHERE guild_id = ? AND channel_id = ? AND author_id = ?
                ORDER BY id DESC LIMIT 1""",
            (guild_id, channel_id, author_id),
        )
        return _story(row) if row is not None else None

    async def in_guild(self, guild_id: int, title_part: str = "", limit: int = 25) -> list[Story]:
        """The guild's stories whose title contains `title_part` (any case), newest first."""
        pattern = "%" + _LIKE_SPECIALS.sub(r"\\\g<0>", title_part) + "%"
        rows = await self._db.fetch_all(
            """SELECT * FROM stories WHERE guild_id = ? AND lower(title) LIKE lower(?) ESCAPE '\\'
                ORDER BY id DESC LIMIT ?""",
            (guild_id, pattern, limit),
        )
        return [_story(row) for row in rows]

    async def digests(self, guild_id: int, author_id: int, limit: int = 25) -> list[StoryDigest]:
        """The member's stories in this guild, newest first, with their progress."""
        rows = await self._db.fetch_all(_DIGESTS, (guild_id, author_id, limit))
        return [_digest(row) for row in rows]

    async def add_reference(self, photo: ReferencePhoto) -> None:
        """Record a reference photo whose file is already stored."""
        await self._db.execute(
            """INSERT INTO reference_photos (story_id, position, file_name, mime_type, size_bytes)
                VALUES (?, ?, ?, ?, ?)""",
            (photo.story_id, photo.position, photo.file_name, photo.mime_type, photo.size_bytes),
        )

    async def references(self, story_id: int) -> list[ReferencePhoto]:
        """The story's reference photos in the order the member attached them."""
        rows = await self._db.fetch_all(
            "SELECT * FROM reference_photos WHERE story_id = ? ORDER BY position", (story_id,)
        )
        return [_reference(row) for row in rows]

    async def delete(self, story_id: int) -> list[int]:
        """Delete the story with its references, scenes and jobs; returns the scene ids
        so the caller can remove their media files."""
        async with self._db.transaction() as tx:
            rows = await tx.fetch_all("SELECT id FROM scenes WHERE story_id = ?", (story_id,))
            if not await tx.execute("DELETE FROM stories WHERE id = ?", (story_id,)):
                raise NotFound("story", story_id)
        return [int(row["id"]) for row in rows]
