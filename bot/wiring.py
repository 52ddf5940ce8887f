"""Settings → adapters (providers/connect.py, for each provider with a key, connected on first
use or by `Services.warm_up` once the bot is connected) → storage → Services. Every client has
an explicit timeout and is closed on shutdown."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.book.service import StorybookService
from bot.book.web import BookServer, web_config
from bot.library import Library
from bot.photos import ReferencePhotos
from bot.policy import Policy
from bot.scene_card import SceneCards
from bot.services import StoryService
from bot.settings import Settings
from bot.standing import Standings
from bot.tiers import TierTable
from bot.videos import VideoService
from providers.base import ImageProvider, SceneWriter, VideoProvider
from providers.deferred import Deferred, DeferredImages, DeferredVideo, DeferredWriter, warm_up
from providers.registry import PROVIDERS, VIDEO_MODEL, Catalog, Provider, TextModel, text_model
from storage import Storage

if TYPE_CHECKING:
    from providers.connect import Connected

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
    cards: SceneCards
    books: StorybookService
    web: BookServer | None  # started and stopped with the bot
    library: Library
    standings: Standings
    closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    # The providers that write scene text or drive videos: connected right after READY. An
    # image-only provider (google-genai alone is ~17 MiB) connects on its first picture.
    warm: list[Deferred] = field(default_factory=list)

    async def warm_up(self) -> None:
        """Connect the providers every scene needs (the SDK imports run in a worker thread),
        so that the first scene does not pay for them."""
        await warm_up(self.warm)

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()


def _connect(settings: Settings, provider: Provider, text: TextModel | None) -> Connected:
    from providers.connect import CONNECTORS, Access  # the SDKs: off the start-up path

    secret = settings.api_key(provider)
    access = Access(
        key=secret.get_secret_value() if secret else "",
        base_url=settings.base_url(provider),
        timeout=IMAGE_TIMEOUT,
        retries=RETRIES,
        text_timeout=TEXT_TIMEOUT,
    )
    writes = text.api_model if text is not None and text.provider is provider else None
    return CONNECTORS[provider].connect(access, writes)


@dataclass
class _Adapters:
    """Each keyed provider's adapters, connected on first use; `warm` are those every scene or
    the video loop needs, connected right after READY."""

    images: dict[Provider, ImageProvider] = field(default_factory=dict)
    writer: SceneWriter | None = None
    video: VideoProvider | None = None
    warm: list[Deferred] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)


def _adapters(settings: Settings) -> _Adapters:
    adapters = _Adapters()
    keyed = settings.keyed_providers()
    text = text_model(keyed, settings.text_model)
    for provider in (p for p in PROVIDERS if p in keyed):
        one = Deferred(functools.partial(_connect, settings, provider, text))
        adapters.images[provider] = DeferredImages(one)
        if text is not None and text.provider is provider:
            adapters.writer = DeferredWriter(one)
        if provider is VIDEO_MODEL.provider:
            adapters.video = DeferredVideo(one)
        if provider in (VIDEO_MODEL.provider, text.provider if text else None):
            adapters.warm.append(one)
        adapters.closers.append(one.close)
    return adapters


async def build_services(settings: Settings, catalog: Catalog, tiers: TierTable) -> Services:
    storage = await Storage.open(settings.data_dir, database_url=settings.database())
    adapters = _adapters(settings)
    writer = adapters.writer
    if writer is None:
        from providers.text import PlainSceneWriter  # it imports the OpenAI SDK

        writer = PlainSceneWriter()  # the member's own words, without any key
    policy = Policy(catalog, tiers, settings.keyed_providers(), storage, settings.owner_ids)
    videos = VideoService(
        storage,
        adapters.video,
        poll=timedelta(seconds=settings.video_poll_seconds),
        timeout=timedelta(seconds=settings.video_timeout_seconds),
    )
    cards = SceneCards(policy, storage, videos)
    photos = ReferencePhotos(storage)
    stories = StoryService(policy, storage, adapters.images, writer, videos, cards, photos)
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
        cards=cards,
        books=books,
        web=web,
        library=Library(storage),
        standings=Standings(policy, storage),
        closers=[storage.close, *adapters.closers],
        warm=adapters.warm,
    )
