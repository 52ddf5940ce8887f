"""Each provider's SDK clients and adapters, built from its key: the code half of the provider
table (its data half, names and defaults, is PROVIDERS in providers/registry.py). Every client
has an explicit timeout; whoever connects closes them with `Connected.closers`."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import openai

from providers.base import ImageProvider, SceneWriter, VideoProvider
from providers.openai_images import OpenAIImages
from providers.registry import Provider
from providers.text import OpenAISceneWriter
from providers.xai_images import XAIImages
from providers.xai_video import XAIVideo

if TYPE_CHECKING:
    from google import genai

Closer = Callable[[], Awaitable[object]]
DOWNLOAD_TIMEOUT = httpx.Timeout(120.0, connect=10.0)  # a finished video's MP4


@dataclass(frozen=True, slots=True)
class Access:
    """How to reach one provider: its key, its base URL (None: the SDK's), and the timeouts and
    retries of its clients."""

    key: str
    base_url: str | None
    timeout: float
    retries: int
    text_timeout: float = 60.0


@dataclass(frozen=True, slots=True)
class Connected:
    """One provider's adapters, and how to close their clients."""

    images: ImageProvider
    writer: SceneWriter | None  # only on the provider that writes scene text
    video: VideoProvider | None
    closers: tuple[Closer, ...]


@dataclass(frozen=True, slots=True)
class Connector:
    # Access, and the scene text model when this provider writes scene text.
    connect: Callable[[Access, str | None], Connected]
    # The model ids the key reaches (`check --live`).
    list_models: Callable[[Access], Awaitable[frozenset[str]]]


def is_private(url: str | None) -> bool:
    """A base URL on loopback or a private network: a stand-in or an operator's own proxy."""
    host = urlsplit(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def openai_client(access: Access) -> openai.AsyncOpenAI:
    # The SDK's aiohttp transport (aiohttp comes with discord.py): its connector costs far
    # less CPU per request than the default pool, which scans every connection each time.
    return openai.AsyncOpenAI(
        api_key=access.key,
        base_url=access.base_url,
        timeout=access.timeout,
        max_retries=access.retries,
        http_client=openai.DefaultAioHttpClient(timeout=access.timeout),
    )


def _openai(access: Access, text_model: str | None) -> Connected:
    client = openai_client(access)
    writer = None
    if text_model is not None:
        writer = OpenAISceneWriter(client.with_options(timeout=access.text_timeout), text_model)
    return Connected(OpenAIImages(client), writer, None, (client.close,))


def _xai(access: Access, text_model: str | None) -> Connected:
    client = openai_client(access)
    http = httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT)
    writer = None
    if text_model is not None:
        chat = client.with_options(timeout=access.text_timeout)
        writer = OpenAISceneWriter.on_xai(chat, text_model)
    video = XAIVideo(client, http, allow_private_downloads=is_private(access.base_url))
    return Connected(XAIImages(client), writer, video, (client.close, http.aclose))


def _gemini(access: Access, text_model: str | None) -> Connected:
    # google-genai is imported with a Gemini key only
    from providers.gemini import GeminiImages
    from providers.gemini_text import GeminiSceneWriter

    client = _gemini_client(access)
    writer = None
    if text_model is not None:
        writer = GeminiSceneWriter(client, text_model, access.text_timeout)
    return Connected(GeminiImages(client), writer, None, (client.aio.aclose,))


def _gemini_client(access: Access) -> genai.Client:
    from providers.gemini import gemini_client

    return gemini_client(access.key, access.base_url, access.timeout, attempts=access.retries + 1)


# The model lists are asked by `check --live` alone (and model_lists imports google-genai).
async def _openai_models(access: Access) -> frozenset[str]:
    from providers.model_lists import openai_models

    async with openai_client(access) as client:
        return await openai_models(client)


async def _xai_models(access: Access) -> frozenset[str]:
    from providers.model_lists import xai_models

    async with openai_client(access) as client:
        return await xai_models(client)


async def _gemini_models(access: Access) -> frozenset[str]:
    from providers.model_lists import gemini_models

    client = _gemini_client(access)
    try:
        return await gemini_models(client)
    finally:
        await client.aio.aclose()


CONNECTORS: Mapping[Provider, Connector] = MappingProxyType(
    {
        Provider.OPENAI: Connector(_openai, _openai_models),
        Provider.XAI: Connector(_xai, _xai_models),
        Provider.GEMINI: Connector(_gemini, _gemini_models),
    }
)
