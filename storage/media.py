"""Media files under DATA_DIR (SPEC §9): images/{scene_id}.png, videos/{scene_id}.mp4,
references/{story_id}/{position}.{png|jpg|webp}, and films/{story_id}.mp4 (the storybook's film).

Names are built from integer ids and fixed extensions only, never from user input. Every
write goes to a temp file in the target's folder, is fsynced, then `os.replace`d over the
target: a crash leaves the old file or none, never a torn one. File I/O runs in a thread
(`asyncio.to_thread`) so the event loop never blocks on the disk.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

REFERENCE_EXTENSIONS: Final[Mapping[str, str]] = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
}
TEMP_SUFFIX: Final = ".tmp"
_REFERENCE_NAME: Final = re.compile(r"\A[0-9]+\.(png|jpg|webp)\Z")


def _id(value: int) -> str:
    # bool is an int too, and a str id could smuggle "../" into a path: refuse both.
    if type(value) is not int or value < 0:
        raise ValueError(f"media ids are non-negative integers, got {value!r}")
    return str(value)


def temp_path_for(target: Path) -> Path:
    """A fresh temp name next to `target` (same folder, so os.replace is atomic)."""
    return target.with_name(f"{target.name}.{secrets.token_hex(8)}{TEMP_SUFFIX}")


def _fsync_dir(folder: Path) -> None:
    # The rename itself is durable only once its folder is flushed (POSIX only).
    if os.name == "posix":
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    with path.open("rb") as file:
        os.fsync(file.fileno())


def _replace(temp: Path, target: Path) -> None:
    try:
        _fsync_file(temp)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def atomic_write(target: Path, data: bytes) -> None:
    """Write `data` to `target` through a temp file and os.replace (blocking; use a thread)."""
    temp = temp_path_for(target)
    try:
        with temp.open("xb") as file:
            file.write(data)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _replace(temp, target)


class MediaStore:
    """The media folders under one DATA_DIR."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.images_dir = root / "images"
        self.videos_dir = root / "videos"
        self.references_dir = root / "references"
        self.films_dir = root / "films"

    async def create_folders(self) -> None:
        """Create images/, videos/, references/ and films/ if missing."""
        for folder in (self.images_dir, self.videos_dir, self.references_dir, self.films_dir):
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)

    async def remove_temp_files(self) -> int:
        """At start: delete the temp files of writes a crash cut short; returns how many."""
        return await asyncio.to_thread(self._remove_temp_files)

    def _remove_temp_files(self) -> int:
        story_dirs = [path for path in self.references_dir.glob("*") if path.is_dir()]
        removed = 0
        for folder in (self.images_dir, self.videos_dir, self.films_dir, *story_dirs):
            for leftover in folder.glob(f"*{TEMP_SUFFIX}"):
                leftover.unlink(missing_ok=True)
                removed += 1
        return removed

    def image_path(self, scene_id: int) -> Path:
        """Where the scene's current image lives."""
        return self.images_dir / f"{_id(scene_id)}.png"

    def video_path(self, scene_id: int) -> Path:
        """Where the scene's video lives."""
        return self.videos_dir / f"{_id(scene_id)}.mp4"

    def film_path(self, story_id: int) -> Path:
        """Where the story's joined film is kept."""
        return self.films_dir / f"{_id(story_id)}.mp4"

    def reference_dir(self, story_id: int) -> Path:
        """The folder of the story's reference photos."""
        return self.references_dir / _id(story_id)

    def reference_path(self, story_id: int, file_name: str) -> Path:
        """A stored reference photo; `file_name` must be one this store generated."""
        if not _REFERENCE_NAME.match(file_name):
            raise ValueError(f"not a reference photo name: {file_name!r}")
        return self.reference_dir(story_id) / file_name

    async def save_image(self, scene_id: int, png: bytes) -> None:
        """Store (or replace) the scene's PNG atomically."""
        await asyncio.to_thread(atomic_write, self.image_path(scene_id), png)

    async def read_image(self, scene_id: int) -> bytes | None:
        """The scene's PNG, or None if it has none."""
        return await asyncio.to_thread(_read_if_exists, self.image_path(scene_id))

    async def save_video(self, scene_id: int, mp4: bytes) -> None:
        """Store (or replace) the scene's MP4 atomically."""
        await asyncio.to_thread(atomic_write, self.video_path(scene_id), mp4)

    async def read_video(self, scene_id: int) -> bytes | None:
        """The scene's MP4, or None if it has none."""
        return await asyncio.to_thread(_read_if_exists, self.video_path(scene_id))

    async def video_size(self, scene_id: int) -> int | None:
        """The size of the scene's MP4 in bytes (None: no video), without reading it."""
        return await asyncio.to_thread(_size_if_exists, self.video_path(scene_id))

    async def save_film(self, story_id: int, mp4: bytes) -> None:
        """Keep (or replace) the story's joined film atomically."""
        await asyncio.to_thread(atomic_write, self.film_path(story_id), mp4)

    async def read_film(self, story_id: int) -> bytes | None:
        """The story's kept film, or None."""
        return await asyncio.to_thread(_read_if_exists, self.film_path(story_id))

    def video_temp_path(self, scene_id: int) -> Path:
        """A temp path in this process's DATA_DIR/videos for a downloader that writes itself;
        `commit_video` it."""
        return temp_path_for(self.video_path(scene_id))

    async def commit_video(self, scene_id: int, temp: Path) -> None:
        """Atomically move a finished temp file (from `video_temp_path`) into place."""
        self._check_temp(scene_id, temp)
        await asyncio.to_thread(_replace, temp, self.video_path(scene_id))

    def _check_temp(self, scene_id: int, temp: Path) -> None:
        target = self.video_path(scene_id)
        if temp.parent != self.videos_dir or not (
            temp.name.startswith(f"{target.name}.") and temp.name.endswith(TEMP_SUFFIX)
        ):
            raise ValueError(f"{temp} is not a temp path of scene {scene_id}")

    async def discard(self, temp: Path) -> None:
        """Delete an abandoned temp file."""
        await asyncio.to_thread(temp.unlink, missing_ok=True)

    async def delete_video(self, scene_id: int) -> None:
        """Drop the scene's video (Regenerate replaced the picture it animated)."""
        await asyncio.to_thread(self.video_path(scene_id).unlink, missing_ok=True)

    async def save_reference(
        self, story_id: int, position: int, data: bytes, mime_type: str
    ) -> str:
        """Store a reference photo as {position}.{ext}; returns that generated file name."""
        file_name = reference_name(position, mime_type)
        target = self.reference_path(story_id, file_name)
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(atomic_write, target, data)
        return file_name

    async def read_reference(self, story_id: int, file_name: str) -> bytes:
        """The bytes of a stored reference photo."""
        return await asyncio.to_thread(self.reference_path(story_id, file_name).read_bytes)

    async def delete_story_media(self, story_id: int, scene_ids: Iterable[int]) -> None:
        """Remove the story's reference photos and its scenes' images and videos."""
        paths = [p for s in scene_ids for p in (self.image_path(s), self.video_path(s))]
        paths.append(self.film_path(story_id))
        await asyncio.to_thread(_delete_all, self.reference_dir(story_id), paths)


def reference_name(position: int, mime_type: str) -> str:
    """{position}.{ext}: the only names reference photos are stored under."""
    extension = REFERENCE_EXTENSIONS.get(mime_type)
    if extension is None:
        raise ValueError(f"unsupported reference photo type {mime_type!r}")
    return f"{_id(position)}.{extension}"


def _read_if_exists(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _size_if_exists(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _delete_all(folder: Path, paths: Iterable[Path]) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    for path in paths:
        path.unlink(missing_ok=True)
