"""Scenes of a story: text, the model that drew it, image versions, and where it was posted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.clock import Clock, from_db_time, to_db_time, utc_now
from storage.errors import ConstraintViolation, NotFound
from storage.sql import Backend, Params, Row


class SceneStatus(StrEnum):
    """Outcome of the scene's latest image generation."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Scene:
    """One scene; `image_version` counts the images drawn for it (0 = none yet).

    `number` orders every row of the story, failed ones included; `told_number` is the number
    members see, given when the scene is first drawn (None until then)."""

    id: int
    story_id: int
    number: int
    text: str
    model_key: str
    direction: str | None
    image_version: int
    status: SceneStatus
    failure_reason: str | None
    channel_id: int
    message_id: int | None
    created_at: datetime
    told_number: int | None = None


def _scene(row: Row) -> Scene:
    return Scene(
        id=row["id"],
        story_id=row["story_id"],
        number=row["number"],
        text=row["text"],
        model_key=row["model_key"],
        direction=row["direction"],
        image_version=row["image_version"],
        status=SceneStatus(row["status"]),
        failure_reason=row["failure_reason"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        created_at=from_db_time(row["created_at"]),
        told_number=row["told_number"],
    )


# One statement picks the next number and inserts, so two writers cannot take the same one.
_INSERT = """INSERT INTO scenes (story_id, number, text, model_key, direction, channel_id,
        created_at)
    SELECT :story_id, COALESCE(MAX(number), 0) + 1, :text, :model_key, :direction, :channel_id,
        :created_at
    FROM scenes WHERE story_id = :story_id
    RETURNING *"""


# Like _INSERT, one statement (serializable) reads the story's highest told number and takes the
# next, so two scenes drawn at the same instant cannot share one (a unique index guards it too).
_RECORD_IMAGE = """UPDATE scenes SET status = 'ready', failure_reason = NULL,
        image_version = image_version + 1, model_key = ?,
        told_number = COALESCE(told_number, (
            SELECT COALESCE(MAX(told.told_number), 0) + 1 FROM scenes AS told
            WHERE told.story_id = scenes.story_id))
    WHERE id = ? RETURNING *"""


class SceneRepository:
    """Reads and writes `scenes`."""

    def __init__(self, db: Backend, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def create(
        self,
        *,
        story_id: int,
        text: str,
        model_key: str,
        channel_id: int,
        direction: str | None = None,
    ) -> Scene:
        """Append a pending scene to the story; it gets the next scene number."""
        params = {
            "story_id": story_id,
            "text": text,
            "model_key": model_key,
            "direction": direction,
            "channel_id": channel_id,
            "created_at": to_db_time(self._clock()),
        }
        try:
            (row,) = await self._db.fetch_serializable(_INSERT, params)
        except ConstraintViolation as exc:
            if exc.kind == "foreign_key":
                raise NotFound("story", story_id) from exc
            raise
        return _scene(row)

    async def get(self, scene_id: int) -> Scene | None:
        """The scene with this id, or None."""
        row = await self._db.fetch_one("SELECT * FROM scenes WHERE id = ?", (scene_id,))
        return _scene(row) if row is not None else None

    async def list_for_story(self, story_id: int) -> list[Scene]:
        """The story's scenes in order (the scene writer's context)."""
        rows = await self._db.fetch_all(
            "SELECT * FROM scenes WHERE story_id = ? ORDER BY number", (story_id,)
        )
        return [_scene(row) for row in rows]

    async def record_image(self, scene_id: int, model_key: str) -> Scene:
        """A new image was stored for the scene: ready, next image version, model used; the
        first one also gives the scene its told number."""
        rows = await self._db.fetch_serializable(_RECORD_IMAGE, (model_key, scene_id))
        if not rows:
            raise NotFound("scene", scene_id)
        return _scene(rows[0])

    async def mark_failed(self, scene_id: int, reason: str) -> Scene:
        """The latest generation for the scene failed; keep why."""
        return await self._update(
            "UPDATE scenes SET status = 'failed', failure_reason = ? WHERE id = ? RETURNING *",
            (reason, scene_id),
            scene_id,
        )

    async def set_message(self, scene_id: int, *, channel_id: int, message_id: int) -> Scene:
        """Remember the Discord message that shows the scene (edited later by the video loop)."""
        return await self._update(
            "UPDATE scenes SET channel_id = ?, message_id = ? WHERE id = ? RETURNING *",
            (channel_id, message_id, scene_id),
            scene_id,
        )

    async def _update(self, sql: str, params: Params, scene_id: int) -> Scene:
        row = await self._db.fetch_one(sql, params)
        if row is None:
            raise NotFound("scene", scene_id)
        return _scene(row)
