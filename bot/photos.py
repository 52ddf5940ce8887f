"""Reference photos (SPEC §6) without Discord: a member's attachments read, checked and
re-encoded by Pillow, stored with their story, and handed to the image model before each scene
with the previous scene's picture for continuity."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.errors import Refusal, photo_unusable_text
from bot.policy import UploadInfo
from providers.base import ReferenceImage
from providers.images import BadImage, prepare_reference
from storage import Scene, Storage, Story


@dataclass(frozen=True, slots=True)
class Upload:
    """An attachment as a command hands it in: what Discord said of it, and how to read it."""

    info: UploadInfo
    read: Callable[[], Awaitable[bytes]]


class ReferencePhotos:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def read(self, uploads: Sequence[Upload]) -> list[ReferenceImage]:
        """The attachments as re-encoded photos; one Pillow cannot use is refused by name."""
        photos = []
        for upload in uploads:
            data = await upload.read()
            try:
                photos.append(await asyncio.to_thread(prepare_reference, data))
            except BadImage as exc:
                raise Refusal(photo_unusable_text(upload.info.name, str(exc))) from exc
        return photos

    async def store(self, story: Story, photos: Sequence[ReferenceImage]) -> None:
        for position, photo in enumerate(photos):
            await self._storage.add_reference_photo(story.id, position, photo.data, photo.mime_type)

    async def for_drawing(
        self,
        story: Story,
        previous: Scene | None,
        limit: int,
        known: Sequence[ReferenceImage] | None = None,
    ) -> tuple[ReferenceImage, ...]:
        """The member's photos first (they matter most), then the previous scene for continuity;
        the photos are read from storage unless `known`."""
        media = self._storage.media
        if known is not None:
            photos = list(known[:limit])
        else:
            photos = [
                ReferenceImage(await media.read_reference(story.id, p.file_name), p.mime_type)
                for p in (await self._storage.stories.references(story.id))[:limit]
            ]
        if previous is not None and len(photos) < limit and limit > 1:
            png = await media.read_image(previous.id)
            if png is not None:
                photos.append(ReferenceImage(png, "image/png"))
        return tuple(photos)
