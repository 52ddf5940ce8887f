"""xAI's REST wire format as the loopback stand-in (tests/fakes/xai_api.py) speaks it.

Request checks answer like the real API (HTTP 400 with xAI's error envelope); answer bodies follow
docs.x.ai and the shapes other clients parse (shared/reference/provider-apis.md §2).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

MAX_EDIT_IMAGES = 3
ASPECT_RATIOS = frozenset({"1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"})
RESOLUTIONS = frozenset({"480p", "720p"})
VIDEO_MODEL = "grok-imagine-video"
TICKS_PER_SECOND = 700_000_000  # $0.07/s at 10^10 ticks per dollar

OutcomeKind = Literal["done", "failed", "expired", "moderated", "missing_file", "never", "redirect"]
# How a job still rendering is answered: xAI's spec and SDK say HTTP 202 with or without a JSON
# body (the default here: 202 with `{"status": "pending", "progress": N}`); SPEC §8 also
# tolerates 200 `{"status": "pending"}`; "202-echo" only echoes the request id.
PendingForm = Literal["202-json", "202-empty", "202-echo", "200-json"]
PENDING_FORMS: tuple[PendingForm, ...] = ("202-json", "202-empty", "202-echo", "200-json")


@dataclass(frozen=True, slots=True)
class InlineImage:
    """A picture sent inline as a `data:` URI, decoded."""

    mime_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class VideoOutcome:
    """How one submitted video job ends (after the stand-in's `polls_until_done` pending polls).

    done: a URL on the stand-in serving `size` MP4 bytes; failed: `error.message` = `message`;
    expired; moderated: done, no URL, respect_moderation false; missing_file: the URL 404s;
    never: pending forever; redirect: the URL answers 302 to the file.
    """

    kind: OutcomeKind = "done"
    message: str = "Video generation failed"
    size: int = 4096
    declare_length: bool = True  # False: served chunked, without Content-Length

    @classmethod
    def failed(cls, message: str = "Video generation failed") -> VideoOutcome:
        return cls("failed", message=message)

    @classmethod
    def oversize(cls, size: int, *, declare_length: bool = True) -> VideoOutcome:
        return cls("done", size=size, declare_length=declare_length)


@dataclass(slots=True)
class VideoJob:
    """One submitted job: its scripted outcome, the submitted JSON and how often it was polled."""

    request_id: str
    outcome: VideoOutcome
    body: Mapping[str, object]
    polls: int = 0


def error_body(message: str, code: str = "Client specified an invalid argument") -> object:
    """xAI's error envelope: a code sentence and a message string."""
    return {"code": code, "error": message}


def image_model(model_id: str, aliases: tuple[str, ...]) -> dict[str, object]:
    """One ImageGenerationModel of `GET /v1/image-generation-models`; prices are in ticks."""
    return {
        "id": model_id,
        "fingerprint": "fp_standin",
        "max_prompt_length": 1024,
        "created": 1_738_961_600,
        "object": "model",
        "owned_by": "xai",
        "version": "1.0.0",
        "input_modalities": ["text", "image"],
        "output_modalities": ["image"],
        "image_price": 200_000_000,
        "aliases": list(aliases),
    }


def language_model(model_id: str, aliases: tuple[str, ...]) -> dict[str, object]:
    """One LanguageModel of `GET /v1/language-models`; prices in USD cents per 100M tokens."""
    return {
        "id": model_id,
        "fingerprint": "fp_standin",
        "created": 1_773_014_400,
        "object": "model",
        "owned_by": "xai",
        "version": "1.0",
        "input_modalities": ["text", "image"],
        "output_modalities": ["text"],
        "prompt_text_token_price": 20_000,
        "cached_prompt_text_token_price": 5_000,
        "prompt_image_token_price": 20_000,
        "completion_text_token_price": 60_000,
        "search_price": 0,
        "prompt_text_token_price_long_context": 0,
        "cached_prompt_text_token_price_long_context": 0,
        "completion_text_token_price_long_context": 0,
        "long_context_threshold": 0,
        "aliases": list(aliases),
    }


def fields_of(body: object) -> Mapping[str, object]:
    return body if isinstance(body, dict) else {}


def decode_data_uri(url: object) -> InlineImage | None:
    if not isinstance(url, str) or not url.startswith("data:") or ";base64," not in url:
        return None
    head, payload = url.removeprefix("data:").split(";base64,", 1)
    try:
        return InlineImage(head, base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError):
        return None


def inline_images(body: Mapping[str, object]) -> tuple[InlineImage, ...]:
    """The decodable `image.url` / `images[].url` data URIs of a request, in order."""
    parts = body.get("images")
    entries = list(parts) if isinstance(parts, list) else [body.get("image")]
    decoded = [decode_data_uri(fields_of(entry).get("url")) for entry in entries]
    return tuple(image for image in decoded if image is not None)


def _needs_model_and_prompt(fields: Mapping[str, object]) -> str | None:
    if not isinstance(fields.get("model"), str) or not isinstance(fields.get("prompt"), str):
        return "`model` and `prompt` are required strings"
    return None


def image_problem(fields: Mapping[str, object]) -> str | None:
    if fields.get("aspect_ratio", "1:1") not in ASPECT_RATIOS | {"auto"}:
        return "Unsupported aspect_ratio"
    return _needs_model_and_prompt(fields)


def edit_problem(content_type: str, fields: Mapping[str, object], images: int) -> str | None:
    if not content_type.startswith("application/json"):
        return "Expected a JSON body"  # xAI rejects the OpenAI SDK's multipart edits
    if ("image" in fields) == ("images" in fields):
        return "Send exactly one of `image` or `images`"
    if not 1 <= images <= MAX_EDIT_IMAGES:
        return f"Send 1 to {MAX_EDIT_IMAGES} images as data URIs or https URLs"
    return image_problem(fields)


def video_problem(fields: Mapping[str, object], images: int) -> str | None:
    duration = fields.get("duration", 8)
    if not isinstance(duration, int) or not 1 <= duration <= 15:
        return "`duration` must be 1 to 15 seconds"
    if fields.get("aspect_ratio", "16:9") not in ASPECT_RATIOS:
        return "Unsupported aspect_ratio"
    if fields.get("resolution", "480p") not in RESOLUTIONS:
        return "Unsupported resolution"
    if "image" in fields and not images:
        return "`image.url` must be a data URI or an https URL"
    return _needs_model_and_prompt(fields)


def pending_answer(job: VideoJob, polls_until_done: int, form: PendingForm) -> tuple[int, object]:
    """HTTP status and JSON body (None: an empty body) of a poll while the job renders."""
    progress = min(99, 100 * job.polls // (polls_until_done + 1))
    if form == "202-empty":
        return 202, None
    if form == "202-echo":
        return 202, {"request_id": job.request_id}
    return (200 if form == "200-json" else 202), {"status": "pending", "progress": progress}


def final_answer(job: VideoJob, origin: str) -> object:
    """The poll answer once the job has reached its scripted outcome."""
    kind = job.outcome.kind
    duration = job.body.get("duration", 8)
    if kind == "failed":
        error = {"code": "internal_error", "message": job.outcome.message}
        video: dict[str, object] = {"duration": 0, "respect_moderation": True}
        return {"status": "failed", "video": video, "model": "", "error": error}
    if kind == "expired":
        return {"status": "expired"}
    if kind == "moderated":
        video = {"duration": duration, "respect_moderation": False}
        return {"status": "done", "video": video, "model": VIDEO_MODEL}
    folder = "redirect" if kind == "redirect" else "files"
    url = f"{origin}/{folder}/{job.request_id}.mp4"
    video = {"url": url, "duration": duration, "respect_moderation": True}
    ticks = duration * TICKS_PER_SECOND if isinstance(duration, int) else 0
    usage = {"cost_in_usd_ticks": ticks}
    return {"status": "done", "video": video, "model": VIDEO_MODEL, "usage": usage}


_ROLES = frozenset({"system", "user", "assistant", "tool", "function"})


def chat_problem(fields: Mapping[str, object]) -> str | None:
    """Why xAI would reject a ChatRequest (422: missing fields), or None."""
    if not isinstance(fields.get("model"), str) or not fields["model"]:
        return "Missing required field: model"
    messages = fields.get("messages")
    if not isinstance(messages, list) or not messages:
        return "Missing required field: messages"
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            return "Each message needs a role of system, user, assistant, tool or function"
        if message["role"] != "assistant" and not isinstance(message.get("content"), str | list):
            return f"A {message['role']} message needs content"
    return None


def chat_answer(
    content: str | None,
    *,
    refusal: str | None = None,
    finish: str = "stop",
    model: str = "grok-4.20-non-reasoning",
    request_number: int = 1,
    ticks: int = 1_650_000,
) -> dict[str, object]:
    """A ChatResponse with one choice, its usage in tokens and in USD ticks."""
    message = {"role": "assistant", "content": content, "refusal": refusal}
    return {
        "id": f"stand-in-chat-{request_number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": 240,
            "completion_tokens": 230,
            "total_tokens": 470,
            "prompt_tokens_details": {
                "text_tokens": 240,
                "audio_tokens": 0,
                "image_tokens": 0,
                "cached_tokens": 0,
            },
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
            "num_sources_used": 0,
            "cost_in_usd_ticks": ticks,
        },
        "service_tier": "default",
        "system_fingerprint": "fp_standin",
    }
