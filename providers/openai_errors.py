"""OpenAI SDK exceptions → our error tree. Also serves xAI, which we reach through the same SDK."""

from __future__ import annotations

import openai

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
from providers.registry import ModelSpec

REFUSAL_CODES = frozenset({"moderation_blocked", "content_policy_violation", "content_filter"})


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return redact(inner["message"])
        if isinstance(inner, str):
            return redact(inner)
    if isinstance(body, str) and body:  # xAI's `{"code", "error": "<text>"}`, unwrapped by the SDK
        return redact(body)
    return f"HTTP {exc.status_code}"


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def translate(exc: openai.OpenAIError, provider: str) -> ProviderError:
    """The one mapping; callers `raise translate(exc, name) from exc`."""
    if isinstance(exc, openai.APITimeoutError):
        return ProviderTimeout(provider, "the request timed out")
    if isinstance(exc, openai.APIConnectionError):
        return Unavailable(provider, "the service could not be reached")
    if isinstance(exc, openai.APIResponseValidationError):
        return InvalidResponse(provider, "the answer did not match the API")
    if not isinstance(exc, openai.APIStatusError):
        return InvalidResponse(provider, redact(str(exc)) or type(exc).__name__)
    message = _message(exc)
    if exc.code in REFUSAL_CODES:
        return ContentRefused(provider, message)
    if exc.status_code in (401, 403):
        return Misconfigured(provider, "the API key was rejected")
    if exc.status_code == 404:
        return Misconfigured(provider, f"the model is unknown to the provider ({message})")
    if exc.status_code == 429:
        if exc.code == "insufficient_quota":
            return Unavailable(provider, "the account's quota is used up")
        return RateLimited(provider, "too many requests", _retry_after(exc))
    if exc.status_code >= 500:
        return Unavailable(provider, f"the service failed ({message})")
    return InvalidRequest(provider, message)


def translate_image_call(
    exc: openai.OpenAIError, provider: str, spec: ModelSpec, *, any_404: bool
) -> ProviderError:
    """`translate`, except that a 404 saying the model does not exist is ModelGone: OpenAI
    answers `model_not_found`, xAI any 404 (`any_404`)."""
    if (
        isinstance(exc, openai.APIStatusError)
        and exc.status_code == 404
        and (any_404 or exc.code == "model_not_found")
    ):
        return ModelGone(spec.provider.display, _message(exc), spec.key, spec.display)
    return translate(exc, provider)
