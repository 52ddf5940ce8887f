"""Values and Protocols at the provider seam; nothing here knows about Discord or storage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final, Protocol

from providers.registry import ModelSpec, Quality

# What a reference photo may be (SPEC §6), each type with the file extension it is sent under.
REFERENCE_TYPES: Final[Mapping[str, str]] = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
}
MAX_REFERENCE_BYTES: Final = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReferenceImage:
    """One input picture: a member's reference photo or the previous scene's image."""

    data: bytes
    mime_type: str  # one of REFERENCE_TYPES

    @property
    def extension(self) -> str:
        return REFERENCE_TYPES[self.mime_type]


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """What to draw. `references` are ordered most important first (faces before scenery)."""

    prompt: str
    references: tuple[ReferenceImage, ...] = ()
    quality: Quality | None = None  # the tier's image_quality, for models that take one


@dataclass(frozen=True, slots=True)
class ImageResult:
    """A finished picture, always re-encoded to PNG, and the model that actually drew it.
    `cost_usd` is the provider's own figure, when its answer carries one."""

    png: bytes
    model: ModelSpec
    cost_usd: float | None = None


class ImageProvider(Protocol):
    """One adapter per vendor; `spec.provider` names which."""

    async def generate(self, spec: ModelSpec, request: ImageRequest) -> ImageResult: ...


class VideoState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"


DEFAULT_VIDEO_SECONDS = 8  # SPEC §8: 5 to 10 s, default 8


@dataclass(frozen=True, slots=True)
class VideoRequest:
    """Image-to-video: `image` becomes the first frame."""

    prompt: str
    image: ReferenceImage
    duration_seconds: int = DEFAULT_VIDEO_SECONDS


@dataclass(frozen=True, slots=True)
class VideoStatus:
    """One poll answer. `url` is set only when DONE; `reason` explains FAILED/EXPIRED."""

    state: VideoState
    url: str | None = None
    reason: str | None = None
    cost_usd: float | None = None  # the provider's own figure for the finished video


class VideoProvider(Protocol):
    async def submit(self, request: VideoRequest) -> str:
        """Start a job; returns the provider's request id."""
        ...

    async def poll(self, request_id: str) -> VideoStatus: ...

    async def download(self, url: str, dest: Path, max_bytes: int) -> int:
        """Stream the MP4 to `dest` (a temp path the caller renames); returns its size."""
        ...


@dataclass(frozen=True, slots=True)
class SceneContext:
    """What the scene writer knows: the premise, earlier scene texts and the member's wish."""

    premise: str
    earlier_scenes: tuple[str, ...] = ()
    direction: str | None = None


class SceneWriter(Protocol):
    async def write(self, context: SceneContext) -> str: ...
