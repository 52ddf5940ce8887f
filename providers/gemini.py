"""Gemini images through google-genai: reference photos go as image parts next to the prompt.

The SDK's default async transport is aiohttp whenever aiohttp is importable (discord.py brings
it), so that is the path this adapter is written and tested against. The SDK retries only when
`retry_options` is set; `gemini_client` sets it, and nothing here retries again.
"""

from __future__ import annotations

import asyncio

import aiohttp
from google import genai
from google.genai import errors, types

from providers.base import ImageRequest, ImageResult
from providers.errors import (
    ContentRefused,
    InvalidRequest,
    InvalidResponse,
    Misconfigured,
    ModelGone,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    Unavailable,
    redact,
)
from providers.images import to_png
from providers.registry import ModelSpec

PROVIDER = "Gemini"  # as members read it in error messages
RETRY_STATUS_CODES = (408, 429, 500, 502, 503, 504)
MAX_RETRY_DELAY = 30.0  # seconds; a member is waiting on a deferred interaction
# Finish reasons by which Google withholds an answer on policy grounds (types.FinishReason).
SAFETY_REASONS = frozenset(
    {
        "SAFETY",
        "PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "RECITATION",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "MODEL_ARMOR",
        "PUP_LIMITED_DISABLED",  # the account is limited for policy violations
        "ESCALATION",  # filtered by an escalation rule
    }
)
_MAX_REASON = 300  # characters of a provider text we pass on to a member

# On the aiohttp transport timeouts are TimeoutError (aiohttp.ServerTimeoutError is one too).
_TIMEOUTS = (TimeoutError,)
_NETWORK = (aiohttp.ClientError, OSError)
# What the SDK raises while reading an answer that is not the API's JSON: JSONDecodeError and
# pydantic's ValidationError are ValueErrors; odd types (a number for an enum) end in the others.
_MALFORMED = (ValueError, TypeError, AttributeError, KeyError)


def gemini_client(
    api_key: str,
    base_url: str | None,
    timeout_seconds: float,
    attempts: int,
    *,
    initial_delay: float = 1.0,
) -> genai.Client:
    """A client on the SDK's default async transport, with an explicit timeout and retries."""
    retry = types.HttpRetryOptions(
        attempts=max(1, attempts),
        initial_delay=initial_delay,
        max_delay=max(initial_delay, MAX_RETRY_DELAY),
        exp_base=2.0,
        jitter=initial_delay,  # jitter scales with the delay, so tests can keep retries fast
        http_status_codes=list(RETRY_STATUS_CODES),
    )
    options = types.HttpOptions(
        base_url=base_url,
        api_version="v1beta",  # Google documents image output (responseModalities) on v1beta
        timeout=max(1, round(timeout_seconds * 1000)),  # milliseconds
        retry_options=retry,
    )
    return genai.Client(vertexai=False, api_key=api_key, http_options=options)


class GeminiImages:
    """ImageProvider for provider "gemini"."""

    def __init__(self, client: genai.Client) -> None:
        self._client = client

    async def generate(self, spec: ModelSpec, request: ImageRequest) -> ImageResult:
        response = await self._call(spec, request)
        picture = _picture(response)
        png = await asyncio.to_thread(to_png, picture, PROVIDER)
        return ImageResult(png, spec)

    async def _call(self, spec: ModelSpec, request: ImageRequest) -> types.GenerateContentResponse:
        config = types.GenerateContentConfig(
            response_modalities=["TEXT", "IMAGE"],
            image_config=types.ImageConfig(aspect_ratio="1:1"),
        )
        return await generate_content(
            self._client, spec.api_model, _contents(spec, request), config, spec
        )


async def generate_content(
    client: genai.Client,
    model: str,
    contents: types.ContentListUnion,
    config: types.GenerateContentConfig,
    spec: ModelSpec | None = None,
) -> types.GenerateContentResponse:
    """One generateContent call, the SDK's exceptions translated into our error tree; a 404 is
    ModelGone for the catalog's image model `spec`, else the model is unknown (Misconfigured)."""
    try:
        return await client.aio.models.generate_content(
            model=model, contents=contents, config=config
        )
    except errors.APIError as exc:
        raise _from_status(exc, spec) from exc
    except _TIMEOUTS as exc:  # before _NETWORK: TimeoutError is an OSError
        raise ProviderTimeout(PROVIDER, "the request timed out") from exc
    except _NETWORK as exc:
        raise Unavailable(PROVIDER, "the service could not be reached") from exc
    except _MALFORMED as exc:
        raise InvalidResponse(PROVIDER, "the answer was not the API's JSON") from exc


def _contents(spec: ModelSpec, request: ImageRequest) -> list[types.PartUnion]:
    """One user turn: up to `max_references` photos, most important first, then the prompt."""
    parts: list[types.PartUnion] = [
        types.Part.from_bytes(data=ref.data, mime_type=ref.mime_type)
        for ref in request.references[: spec.max_references]
    ]
    parts.append(request.prompt)
    return parts


def _picture(response: types.GenerateContentResponse) -> bytes:
    """The picture's bytes, or why there is none.

    Every answer without a picture is a refusal, not a retryable error (SPEC §6): Google gives
    no image for policy reasons under many finish reasons (NO_IMAGE, OTHER, STOP with a text
    like "I can't draw that"), and asking again brings the same answer. The member sees the
    model's own words, and the attempt does not count against the quota.
    """
    candidate = answered(response, "the picture")
    finish = candidate.finish_reason.value if candidate.finish_reason is not None else None
    data = _first_image(candidate)
    if data is None:
        raise ContentRefused(PROVIDER, _declined(candidate, finish))
    return data


def answered(response: types.GenerateContentResponse, what: str) -> types.Candidate:
    """The first candidate, unless Google withheld the answer on policy grounds: a blocked
    prompt or a safety finish reason is ContentRefused, with Google's words when it gave some."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        said = _clip(feedback.block_reason_message or "")
        raise ContentRefused(
            PROVIDER, said or f"the prompt was blocked ({feedback.block_reason.value})"
        )
    if not response.candidates:
        raise InvalidResponse(PROVIDER, "the answer had neither a candidate nor a block reason")
    candidate = response.candidates[0]
    finish = candidate.finish_reason.value if candidate.finish_reason is not None else None
    if finish in SAFETY_REASONS:
        said = _clip(candidate.finish_message or "")
        raise ContentRefused(PROVIDER, said or f"{what} was withheld ({finish})")
    return candidate


def words(candidate: types.Candidate, sep: str = " ") -> str:
    """The candidate's text parts that are not a thinking model's drafts, joined by `sep`."""
    parts = candidate.content.parts if candidate.content is not None else None
    return sep.join(part.text for part in parts or [] if part.text and not part.thought)


def _first_image(candidate: types.Candidate) -> bytes | None:
    """The first image part that is not a thinking model's draft."""
    parts = candidate.content.parts if candidate.content is not None else None
    for part in parts or []:
        blob = part.inline_data
        if part.thought or blob is None or not blob.data:
            continue
        if blob.mime_type is None or blob.mime_type.startswith("image/"):
            return blob.data
    return None


def _declined(candidate: types.Candidate, finish: str | None) -> str:
    said = _clip(candidate.finish_message or words(candidate))
    if said:
        return f"the model answered without a picture: {said}"
    return f"the model answered without a picture ({finish or 'no reason given'})"


def _from_status(exc: errors.APIError, spec: ModelSpec | None) -> ProviderError:
    """An HTTP error of the Gemini API as our error; never echoes a key."""
    code = exc.code
    message = _clip(redact(exc.message or "")) or f"HTTP {code}"
    if code == 429:
        return RateLimited(PROVIDER, f"too many requests ({message})", _retry_delay(exc.details))
    if code in (401, 403) or "API_KEY_INVALID" in _reasons(exc.details):
        return Misconfigured(PROVIDER, f"the API key was rejected (HTTP {code} {exc.status})")
    if code == 404 and spec is not None:  # NOT_FOUND: the model is not (or no longer) served
        return ModelGone(spec.provider.display, message, spec.key, spec.display)
    if code == 404:
        return Misconfigured(PROVIDER, f"the model is unknown to the provider ({message})")
    if code >= 500:
        return Unavailable(PROVIDER, f"the service failed ({message})")
    if code >= 400:
        return InvalidRequest(PROVIDER, message)
    return InvalidResponse(PROVIDER, f"unexpected HTTP status {code}")


def _details(body: object) -> list[dict[str, object]]:
    """The google.rpc detail objects of an error body."""
    error = body.get("error", body) if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _reasons(body: object) -> set[str]:
    return {str(d.get("reason")) for d in _details(body) if "reason" in d}


def _retry_delay(body: object) -> float | None:
    """Seconds from a google.rpc.RetryInfo ("37s"), if Google sent one."""
    for detail in _details(body):
        if str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            try:
                return float(str(detail.get("retryDelay", "")).removesuffix("s"))
            except ValueError:
                return None
    return None


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"
