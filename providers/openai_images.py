"""OpenAI image adapter: the images.generate request without reference photos (through
client.post), `images.edit` with them."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from typing import Final, Literal

import openai
from openai import Omit
from openai.types import ImagesResponse

from providers.base import ImageRequest, ImageResult, ReferenceImage
from providers.errors import InvalidResponse, Misconfigured
from providers.images import to_png
from providers.openai_errors import translate_image_call
from providers.registry import ModelSpec, Provider
from providers.text import BEARER

log = logging.getLogger(__name__)

PROVIDER = "OpenAI"
SIZE: Final = "1024x1024"


class OpenAIImages:
    """ImageProvider for `provider = "openai"`; the injected client owns timeouts and retries."""

    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self._client = client

    async def generate(self, spec: ModelSpec, request: ImageRequest) -> ImageResult:
        """Draw one 1024x1024 picture; references beyond the model's limit are dropped."""
        _check(spec)
        references = _within_limit(spec, request.references)
        try:
            if references:
                answer: object = await self._edit(spec, request, references)
            else:
                answer = await self._generate(spec, request)
        except openai.OpenAIError as exc:
            raise translate_image_call(exc, PROVIDER, spec, any_404=False) from exc
        except json.JSONDecodeError as exc:  # the SDK lets a broken JSON body through as is
            raise InvalidResponse(PROVIDER, "the answer was not valid JSON") from exc
        png = await asyncio.to_thread(to_png, _picture(answer), PROVIDER)
        return ImageResult(png, spec)

    async def _generate(self, spec: ModelSpec, request: ImageRequest) -> ImagesResponse:
        quality = _quality(spec, request)
        body: dict[str, object] = {
            "model": spec.api_model,
            "prompt": request.prompt,
            "n": 1,
            "output_format": "png",
            **({} if isinstance(quality, Omit) else {"quality": quality}),
            "size": SIZE,
        }
        # images.generate's request, in its key order, through the SDK's own path without its
        # walk over the parameter types (0.15 ms of event-loop CPU per picture; lever 10 in
        # docs/PERFORMANCE.md).
        return await self._client.post(
            "/images/generations", body=body, cast_to=ImagesResponse, options=BEARER
        )

    async def _edit(
        self, spec: ModelSpec, request: ImageRequest, references: tuple[ReferenceImage, ...]
    ) -> ImagesResponse:
        # The first photo is kept most faithfully, so the caller's order (faces first) is kept.
        files = [
            (f"reference-{index}.{ref.extension}", ref.data, ref.mime_type)
            for index, ref in enumerate(references, start=1)
        ]
        return await self._client.images.edit(
            model=spec.api_model,
            image=files,
            prompt=request.prompt,
            n=1,
            size=SIZE,
            quality=_quality(spec, request),
            output_format="png",
            # Only models that support it get it: mini accepts only "low", gpt-image-2 wants none.
            input_fidelity="high" if spec.input_fidelity else openai.omit,
        )


def _check(spec: ModelSpec) -> None:
    """A guard: the services layer resolves retired models to successors before calling us."""
    if spec.provider is not Provider.OPENAI:
        raise Misconfigured(PROVIDER, f"{spec.display} is not an OpenAI model")


def _quality(spec: ModelSpec, request: ImageRequest) -> Literal["low", "medium", "high"] | Omit:
    """The tier's quality for models that take one; otherwise the API's own default."""
    if not spec.takes_quality or request.quality is None:
        return openai.omit
    return request.quality.value


def _within_limit(
    spec: ModelSpec, references: tuple[ReferenceImage, ...]
) -> tuple[ReferenceImage, ...]:
    """The first `spec.max_references` photos: they are ordered most important first."""
    kept = references[: spec.max_references]
    if len(kept) < len(references):
        log.info(
            "%s takes at most %d reference(s); dropping %d",
            spec.key,
            spec.max_references,
            len(references) - len(kept),
        )
    return kept


def _picture(answer: object) -> bytes:
    """The decoded bytes of the first picture; a missing or broken one is a malformed answer.

    `answer` is typed loosely on purpose: the SDK returns the raw text, not an ImagesResponse,
    when a server (or a proxy in front of it) answers with a non-JSON content type.
    """
    data = answer.data if isinstance(answer, ImagesResponse) else None
    encoded = getattr(data[0], "b64_json", None) if data else None
    if not isinstance(encoded, str) or not encoded:
        raise InvalidResponse(PROVIDER, "the answer contained no picture")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidResponse(PROVIDER, "the returned picture is not valid base64") from exc
