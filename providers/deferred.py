"""Adapters whose SDK clients are built on first use. Importing the OpenAI SDK alone costs
~0.4 s of CPU, which a bot would otherwise spend before it answers its first command; the bot
connects them right after it is connected to Discord instead (`warm_up`), off that path."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from providers.base import (
    ImageRequest,
    ImageResult,
    SceneContext,
    VideoProvider,
    VideoRequest,
    VideoStatus,
)

if TYPE_CHECKING:
    from providers.connect import Connected
    from providers.registry import ModelSpec


class Deferred:
    """One provider's clients and adapters, connected once, when first needed."""

    def __init__(self, connect: Callable[[], Connected]) -> None:
        self._connect = connect
        self._connected: Connected | None = None
        self._lock = threading.Lock()  # warm_up's thread and a first scene may meet here

    async def connected(self) -> Connected:
        """The connection; made in a worker thread the first time, so the event loop keeps
        answering while the SDK is imported."""
        connected = self._connected
        if connected is None:
            connected = await asyncio.to_thread(self.connect)
        return connected

    def connect(self) -> Connected:
        with self._lock:
            if self._connected is None:
                self._connected = self._connect()
            return self._connected

    async def close(self) -> None:
        if self._connected is not None:
            for close in self._connected.closers:
                await close()


async def warm_up(deferred: list[Deferred]) -> None:
    """Connect each provider in a worker thread, so the event loop keeps answering while the
    SDKs are imported and their TLS contexts loaded; the first scene finds its clients ready.
    (The clients open their sessions on their first request, in the event loop.)"""
    for one in deferred:
        await one.connected()


class DeferredImages:
    def __init__(self, deferred: Deferred) -> None:
        self._deferred = deferred

    async def generate(self, spec: ModelSpec, request: ImageRequest) -> ImageResult:
        return await (await self._deferred.connected()).images.generate(spec, request)


class DeferredWriter:
    """The scene writer of the provider that writes scene text."""

    def __init__(self, deferred: Deferred) -> None:
        self._deferred = deferred

    async def write(self, context: SceneContext) -> str:
        writer = (await self._deferred.connected()).writer
        if writer is None:  # connect was given the scene text model: never the case
            raise RuntimeError("this provider was connected without a scene text model")
        return await writer.write(context)


class DeferredVideo:
    def __init__(self, deferred: Deferred) -> None:
        self._deferred = deferred

    async def _video(self) -> VideoProvider:
        video = (await self._deferred.connected()).video
        if video is None:  # only the video model's provider is wrapped: never the case
            raise RuntimeError("this provider has no video adapter")
        return video

    async def submit(self, request: VideoRequest) -> str:
        return await (await self._video()).submit(request)

    async def poll(self, request_id: str) -> VideoStatus:
        return await (await self._video()).poll(request_id)

    async def download(self, url: str, dest: Path, max_bytes: int) -> int:
        return await (await self._video()).download(url, dest, max_bytes)
