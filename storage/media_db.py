"""Media in the database (PostgreSQL, SPEC §11), so any process on any machine reads what
another stored. Rows of `media`: kind, owner (the scene; the story of a reference photo or a
film) and name (a reference photo's generated file name, else empty).

DATA_DIR keeps only the temp files of downloads in progress, each process its own: a
downloader still streams to `video_temp_path`, and `commit_video` moves the bytes into a row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from storage.media import MediaStore, reference_name
from storage.sql import Backend

_PUT = """INSERT INTO media (kind, owner_id, name, data) VALUES (?, ?, ?, ?)
    ON CONFLICT (kind, owner_id, name) DO UPDATE SET data = excluded.data"""
_GET = "SELECT data FROM media WHERE kind = ? AND owner_id = ? AND name = ?"
_SIZE = "SELECT LENGTH(data) AS size FROM media WHERE kind = 'video' AND owner_id = ? AND name = ''"
_DELETE = "DELETE FROM media WHERE kind = ? AND owner_id = ?"


class DatabaseMediaStore(MediaStore):
    """The media store's operations on rows instead of files; the same names are refused."""

    def __init__(self, root: Path, db: Backend) -> None:
        super().__init__(root)
        self._db = db

    async def _put(self, kind: str, owner_id: int, name: str, data: bytes) -> None:
        await self._db.execute(_PUT, (kind, owner_id, name, data))

    async def _get(self, kind: str, owner_id: int, name: str) -> bytes | None:
        row = await self._db.fetch_one(_GET, (kind, owner_id, name))
        return bytes(row["data"]) if row is not None else None

    async def save_image(self, scene_id: int, png: bytes) -> None:
        await self._put("image", scene_id, "", png)

    async def read_image(self, scene_id: int) -> bytes | None:
        return await self._get("image", scene_id, "")

    async def save_video(self, scene_id: int, mp4: bytes) -> None:
        await self._put("video", scene_id, "", mp4)

    async def read_video(self, scene_id: int) -> bytes | None:
        return await self._get("video", scene_id, "")

    async def video_size(self, scene_id: int) -> int | None:
        row = await self._db.fetch_one(_SIZE, (scene_id,))
        return int(row["size"]) if row is not None else None

    async def save_film(self, story_id: int, mp4: bytes) -> None:
        await self._put("film", story_id, "", mp4)

    async def read_film(self, story_id: int) -> bytes | None:
        return await self._get("film", story_id, "")

    async def commit_video(self, scene_id: int, temp: Path) -> None:
        self._check_temp(scene_id, temp)
        await self.save_video(scene_id, await asyncio.to_thread(temp.read_bytes))
        await self.discard(temp)

    async def delete_video(self, scene_id: int) -> None:
        await self._db.execute(_DELETE, ("video", scene_id))

    async def save_reference(
        self, story_id: int, position: int, data: bytes, mime_type: str
    ) -> str:
        file_name = reference_name(position, mime_type)
        self.reference_path(story_id, file_name)  # the same checks as on disk
        await self._put("reference", story_id, file_name, data)
        return file_name

    async def read_reference(self, story_id: int, file_name: str) -> bytes:
        self.reference_path(story_id, file_name)
        data = await self._get("reference", story_id, file_name)
        if data is None:
            raise FileNotFoundError(f"reference photo {file_name} of story {story_id}")
        return data

    async def delete_story_media(self, story_id: int, scene_ids: Iterable[int]) -> None:
        scenes = list(scene_ids)
        async with self._db.transaction() as tx:
            await tx.execute(_DELETE, ("reference", story_id))
            await tx.execute(_DELETE, ("film", story_id))
            rows = [(kind, scene) for scene in scenes for kind in ("image", "video")]
            await tx.execute_many(_DELETE, rows)
