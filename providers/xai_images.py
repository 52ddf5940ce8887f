"""Grok Imagine pictures through the OpenAI SDK pointed at xAI (SPEC §4, §6).

Without reference photos we call `images.generate`. With them we POST a JSON body to
`/images/edits` through the SDK's generic `post` (xAI rejects the SDK's multipart `images.edit`),
so the SDK's timeout and retries (429 with Retry-After, 5xx, connection errors) serve both.
We always ask for `b64_json`: an item that carries only a `url` means xAI ignored that request,
and we treat it as a malformed answer rather than fetch a second URL from the provider.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging

import openai
from openai.types import ImagesResponse

from providers.base import ImageRequest, ImageResult, ReferenceImage
from providers.errors import ContentRefused, InvalidResponse
from providers.images import to_png
from providers.registry import ModelSpec
from providers.xai_errors import translate_xai
from providers.xai_usage import reported_cost

log = logging.getLogger(__name__)

PROVIDER = "xAI"
ASPECT_RATIO = "1:1"  # scenes are square, like the videos made from them
MODERATED = "xAI's moderation withheld the picture"


def data_uri(image: ReferenceImage) -> str:
    """The picture as a base64 `data:` URI, the form xAI takes for inline images."""
    return f"data:{image.mime_type};base64,{base64.b64encode(image.data).decode('ascii')}"


def edit_body(
    spec: ModelSpec, prompt: str, references: tuple[ReferenceImage, ...]
) -> dict[str, object]:
    """The JSON of `POST /images/edits`: one `image` or several `images`, never input_fidelity."""
    parts = [{"type": "image_url", "url": data_uri(ref)} for ref in references]
    body: dict[str, object] = {
        "model": spec.api_model,
        "prompt": prompt,
        "n": 1,
        "response_format": "b64_json",
    }
    if len(parts) == 1:
        body["image"] = parts[0]  # one input keeps its own aspect ratio
    else:
        body["images"] = parts
        body["aspect_ratio"] = ASPECT_RATIO
    return body


def _payload(answer: object) -> str:
    """The base64 picture of the first item; an empty answer is xAI's silent moderation."""
    if not isinstance(answer, ImagesResponse) or not isinstance(answer.data, list):
        raise InvalidResponse(PROVIDER, "the answer carried no image list")
    if not answer.data:
        raise ContentRefused(PROVIDER, MODERATED)
    item = answer.data[0]
    b64 = getattr(item, "b64_json", None)
    if isinstance(b64, str) and b64:
        return b64
    url = getattr(item, "url", None)
    if isinstance(url, str) and url:
        raise InvalidResponse(PROVIDER, "the answer carried a URL instead of the requested base64")
    raise ContentRefused(PROVIDER, MODERATED)


def _decode_png(b64: str) -> bytes:
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidResponse(PROVIDER, "the picture was not valid base64") from exc
    return to_png(raw, PROVIDER)


class XAIImages:
    """ImageProvider for `provider = "xai"` models."""

    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self._client = client

    async def generate(self, spec: ModelSpec, request: ImageRequest) -> ImageResult:
        # The first references matter most (SPEC §6), so the surplus is cut from the end.
        references = request.references[: spec.max_references]
        try:
            if references:
                answer = await self._edit(spec, request.prompt, references)
            else:
                answer = await self._draw(spec, request.prompt)
        except openai.OpenAIError as exc:
            raise translate_xai(exc, spec) from exc
        except ValueError as exc:  # the SDK lets a body that is not JSON through as ValueError
            raise InvalidResponse(PROVIDER, "the answer was not valid JSON") from exc
        try:
            b64 = _payload(answer)
        except ContentRefused:
            log.info("xAI moderation withheld a picture for %s", spec.key)
            raise
        png = await asyncio.to_thread(_decode_png, b64)
        cost = reported_cost(getattr(answer, "usage", None))
        return ImageResult(png=png, model=spec, cost_usd=cost)

    async def _draw(self, spec: ModelSpec, prompt: str) -> object:
        return await self._client.images.generate(
            model=spec.api_model,
            prompt=prompt,
            n=1,
            response_format="b64_json",
            extra_body={"aspect_ratio": ASPECT_RATIO},
        )

    async def _edit(
        self, spec: ModelSpec, prompt: str, references: tuple[ReferenceImage, ...]
    ) -> object:
        body = await asyncio.to_thread(edit_body, spec, prompt, references)
        return await self._client.post("/images/edits", body=body, cast_to=ImagesResponse)
