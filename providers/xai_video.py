"""Grok Imagine video (SPEC §8): submit an image-to-video job, poll it, download the MP4.

Submit and poll go through the OpenAI SDK's generic `post`/`get` against xAI's base URL, so the
SDK's timeout and retries apply. The MP4 lives on another host for 24 hours and is fetched with
our own httpx client (providers/download.py), the one place with a hand-written retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import cast
from urllib.parse import quote

import httpx
import openai

from providers.base import DEFAULT_VIDEO_SECONDS, VideoRequest, VideoState, VideoStatus
from providers.download import Downloader
from providers.errors import ContentRefused, InvalidResponse, ProviderError, redact
from providers.registry import VIDEO_MODEL
from providers.retry import RetryPolicy
from providers.xai_errors import translate_xai
from providers.xai_images import data_uri
from providers.xai_usage import reported_cost

log = logging.getLogger(__name__)

PROVIDER = "xAI"
MIN_SECONDS, MAX_SECONDS = 5, 10  # SPEC §4
ASPECT_RATIO = "1:1"
RESOLUTION = "720p"
MODERATED = "xAI's moderation withheld the video"
PENDING_STATUS = 202  # "Video generation still in progress" (xAI's OpenAPI)


def clamp_duration(seconds: int | None) -> int:
    """SPEC §4 allows 5-10 seconds; anything else is pulled into range."""
    if seconds is None:
        return DEFAULT_VIDEO_SECONDS
    return min(max(seconds, MIN_SECONDS), MAX_SECONDS)


def submit_body(model: str, request: VideoRequest) -> dict[str, object]:
    """The JSON of `POST /videos/generations`; the scene image becomes the first frame."""
    return {
        "model": model,
        "prompt": request.prompt,
        "image": {"url": data_uri(request.image)},
        "duration": clamp_duration(request.duration_seconds),
        "aspect_ratio": ASPECT_RATIO,
        "resolution": RESOLUTION,
    }


def _mapping(value: object) -> Mapping[str, object]:
    return cast("Mapping[str, object]", value) if isinstance(value, Mapping) else {}


def parse_status(answer: object) -> VideoStatus:
    """One poll answer → VideoStatus; a `done` without a usable video is a moderation refusal."""
    if not isinstance(answer, Mapping):
        raise InvalidResponse(PROVIDER, "the job status was not a JSON object")
    data = _mapping(answer)
    status = data.get("status")
    video = _mapping(data.get("video"))
    url = video.get("url")
    if status is None and not url:
        return VideoStatus(VideoState.PENDING)  # an early answer may only echo the request id
    if status == "pending":
        return VideoStatus(VideoState.PENDING)
    if status in ("done", None):
        if not isinstance(url, str) or not url or video.get("respect_moderation") is False:
            raise ContentRefused(PROVIDER, MODERATED)
        return VideoStatus(VideoState.DONE, url=url, cost_usd=reported_cost(data.get("usage")))
    if status == "failed":
        message = _mapping(data.get("error")).get("message")
        reason = redact(message) if isinstance(message, str) and message else "the job failed"
        return VideoStatus(VideoState.FAILED, reason=reason)
    if status == "expired":
        return VideoStatus(VideoState.EXPIRED, reason="the job expired at xAI")
    raise InvalidResponse(PROVIDER, f"unknown job status {str(status)[:40]!r}")


class XAIVideo:
    """VideoProvider for grok-imagine-video."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        http: httpx.AsyncClient,
        model: str = VIDEO_MODEL.api_model,
        *,
        allow_private_downloads: bool = False,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._client = client
        self._model = model
        self._downloader = Downloader(
            http, PROVIDER, allow_private=allow_private_downloads, retry=retry
        )

    async def submit(self, request: VideoRequest) -> str:
        """Send once, never retried here: a retry after a lost answer could start a second
        paid job. A RateLimited answer means nothing started; the caller may queue it again."""
        body = await asyncio.to_thread(submit_body, self._model, request)
        client = self._client.with_options(max_retries=0)
        try:
            answer = await client.post("/videos/generations", body=body, cast_to=object)
        except (openai.OpenAIError, ValueError) as exc:
            raise _translate(exc) from exc
        request_id = _mapping(answer).get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise InvalidResponse(PROVIDER, "the job was accepted without a request id")
        log.info("xAI video job %s submitted", request_id)
        return request_id

    async def poll(self, request_id: str) -> VideoStatus:
        path = f"/videos/{quote(request_id, safe='')}"
        try:
            # The raw response: xAI answers a job still rendering with 202, with or without a
            # JSON body, so the status code decides before any body is read.
            response = await self._client.get(path, cast_to=httpx.Response)
            if response.status_code == PENDING_STATUS:
                return VideoStatus(VideoState.PENDING)
            answer = response.json()
        except openai.NotFoundError:
            # The id aged out (or was never xAI's): the same outcome for us as `expired`.
            return VideoStatus(VideoState.EXPIRED, reason="xAI no longer knows this job")
        except (openai.OpenAIError, ValueError) as exc:
            raise _translate(exc) from exc
        return parse_status(answer)

    async def download(self, url: str, dest: Path, max_bytes: int) -> int:
        return await self._downloader.fetch(url, dest, max_bytes)


def _translate(exc: openai.OpenAIError | ValueError) -> ProviderError:
    if isinstance(exc, openai.OpenAIError):
        return translate_xai(exc)
    # The SDK lets a body that claims JSON but is not through as a plain ValueError.
    return InvalidResponse(PROVIDER, "the answer was not valid JSON")
