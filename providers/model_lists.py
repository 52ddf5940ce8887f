"""Which models a key reaches, as each provider lists them (for `check --live`, SPEC §2):
OpenAI `GET /v1/models`, xAI `GET /v1/image-generation-models` and `GET /v1/language-models`,
Gemini `models.list`."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping

import aiohttp
import openai
from google import genai
from google.genai import errors as genai_errors

from providers.errors import Unavailable, redact

# What a listing call may raise on a network, HTTP or parsing failure; all mean "not reached".
# The SDKs read any 200 as the list: a web page or another JSON shape (a wrong base URL, a
# login proxy) ends in an AttributeError or TypeError inside them, not in their own errors.
_FAILURES = (
    openai.OpenAIError,
    genai_errors.APIError,
    aiohttp.ClientError,
    OSError,
    TimeoutError,
    ValueError,
    AttributeError,
    TypeError,
)


async def openai_models(client: openai.AsyncOpenAI) -> frozenset[str]:
    return await _listing("OpenAI", _openai(client))


async def xai_models(client: openai.AsyncOpenAI) -> frozenset[str]:
    """The ids and aliases of xAI's image and language models (a request may name either)."""
    return await _listing("xAI", _xai(client))


async def gemini_models(client: genai.Client) -> frozenset[str]:
    return await _listing("Google", _gemini(client))


async def _listing(provider: str, call: Awaitable[frozenset[str]]) -> frozenset[str]:
    try:
        return await call
    except _FAILURES as exc:
        status = getattr(exc, "status_code", None) or getattr(exc, "code", None)
        detail = f"HTTP {status}" if isinstance(status, int) else type(exc).__name__
        raise Unavailable(provider, redact(f"the model list could not be read ({detail})")) from exc


async def _openai(client: openai.AsyncOpenAI) -> frozenset[str]:
    return frozenset([model.id async for model in client.models.list() if model.id])


async def _xai(client: openai.AsyncOpenAI) -> frozenset[str]:
    images = await _xai_list(client, "/image-generation-models")
    return images | await _xai_list(client, "/language-models")


async def _xai_list(client: openai.AsyncOpenAI, path: str) -> frozenset[str]:
    answer = await client.get(path, cast_to=object)
    models = answer.get("models") if isinstance(answer, Mapping) else None
    if not isinstance(models, list):
        raise ValueError("no models list")
    ids: set[str] = set()
    for model in models:
        if isinstance(model, Mapping) and isinstance(model.get("id"), str):
            ids.add(model["id"])
            aliases = model.get("aliases")
            if isinstance(aliases, list):
                ids.update(alias for alias in aliases if isinstance(alias, str))
    return frozenset(ids)


async def _gemini(client: genai.Client) -> frozenset[str]:
    pager = await client.aio.models.list(config={"page_size": 100})
    return frozenset([(model.name or "").removeprefix("models/") async for model in pager])
