"""Settings → SDK clients → adapters → storage → Services. Every client has an explicit
timeout and is closed on shutdown."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import openai

from bot.book.service import StorybookService
from bot.book.web import BookServer, web_config
from bot.library import Library
from bot.policy import Policy
from bot.services import StoryService
from bot.settings import Settings
from bot.standing import Standings
from bot.tiers import TierTable
from bot.videos import VideoService
from providers.base import ImageProvider, SceneWriter, VideoProvider
from providers.gemini import GeminiImages, gemini_client
from providers.openai_images import OpenAIImages
from providers.registry import Catalog, Provider, text_model
from providers.text import GeminiSceneWriter, OpenAISceneWriter, PlainSceneWriter
from providers.xai_images import XAIImages
from providers.xai_video import XAIVideo
from storage import Storage

log = logging.getLogger(__name__)
IMAGE_TIMEOUT = 240.0  # seconds; image models can take a minute or two with many photos
TEXT_TIMEOUT = 60.0
RETRIES = 2


@dataclass(frozen=True)
class Services:
    """What cogs, buttons and the video loop use; read as `interaction.client.services`."""

    settings: Settings
    policy: Policy
    stories: StoryService
    storage: Storage
    videos: VideoService
    books: StorybookService
    web: BookServer | None  # started and stopped with the bot
    library: Library
    standings: Standings
    closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()


def _is_private(url: str) -> bool:
    """A base URL on loopback or a private network: a stand-in or an operator's own proxy."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def openai_client(
    key: str, base_url: str | None, timeout: float, retries: int = RETRIES
) -> openai.AsyncOpenAI:
    # The SDK's aiohttp transport (aiohttp comes with discord.py): its connector costs far
    # less CPU per request than the default pool, which scans every connection each time.
    return openai.AsyncOpenAI(
        api_key=key,
        base_url=base_url,
        timeout=timeout,
        max_retries=retries,
        http_client=openai.DefaultAioHttpClient(timeout=timeout),
    )


async def build_services(settings: Settings, catalog: Catalog, tiers: TierTable) -> Services:
    storage = await Storage.open(settings.data_dir, database_url=settings.database())
    closers: list[Callable[[], Awaitable[object]]] = [storage.close]
    images: dict[Provider, ImageProvider] = {}
    writer: SceneWriter = PlainSceneWriter()  # the member's own words, without any key
    text = text_model(settings.keyed_providers(), settings.text_model)
    video: VideoProvider | None = None
    if settings.openai_api_key:
        key = settings.openai_api_key.get_secret_value()
        client = openai_client(key, settings.openai_base_url, IMAGE_TIMEOUT)
        images[Provider.OPENAI] = OpenAIImages(client)
        if text is not None and text.provider is Provider.OPENAI:
            writer = OpenAISceneWriter(client.with_options(timeout=TEXT_TIMEOUT), text.api_model)
        closers.append(client.close)
    if settings.xai_api_key:
        client = openai_client(
            settings.xai_api_key.get_secret_value(), settings.xai_base_url, IMAGE_TIMEOUT
        )
        http = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=10.0))
        images[Provider.XAI] = XAIImages(client)
        if text is not None and text.provider is Provider.XAI:
            chat = client.with_options(timeout=TEXT_TIMEOUT)
            writer = OpenAISceneWriter.on_xai(chat, text.api_model)
        video = XAIVideo(client, http, allow_private_downloads=_is_private(settings.xai_base_url))
        closers += [client.close, http.aclose]
    if settings.gemini_api_key:
        gemini = gemini_client(
            settings.gemini_api_key.get_secret_value(),
            settings.gemini_base_url,
            IMAGE_TIMEOUT,
            attempts=RETRIES + 1,
        )
        images[Provider.GEMINI] = GeminiImages(gemini)
        if text is not None and text.provider is Provider.GEMINI:
            writer = GeminiSceneWriter(gemini, text.api_model, TEXT_TIMEOUT)
        closers.append(gemini.aio.aclose)
    policy = Policy(catalog, tiers, frozenset(images), storage, settings.owner_ids)
    videos = VideoService(
        storage,
        video,
        poll=timedelta(seconds=settings.video_poll_seconds),
        timeout=timedelta(seconds=settings.video_timeout_seconds),
    )
    stories = StoryService(policy, storage, images, writer, videos)
    config, why = web_config(settings)
    if config is None and settings.web_base_url:
        log.warning("storybook web server %s", why)
    books = StorybookService(storage, catalog, config.links if config else None)
    web = BookServer(books, config) if config else None
    return Services(
        settings=settings,
        policy=policy,
        stories=stories,
        storage=storage,
        videos=videos,
        books=books,
        web=web,
        library=Library(storage),
        standings=Standings(policy, storage),
        closers=closers,
    )
