"""The one error tree of providers/; raw SDK exceptions never leave this package."""

from __future__ import annotations

import re

# Vendors echo (parts of) a key in some auth errors; nothing key-shaped may reach a member.
# Keys start "sk-", "xai-" or "AIza"; "xai_images.py" in a traceback is a file name, not a key.
_KEYLIKE = re.compile(r"\b(?:sk-|xai-|AIza)[-_A-Za-z0-9*]{6,}")


def redact(text: str) -> str:
    """A provider's text with anything key-shaped, of any provider, blanked out."""
    return _KEYLIKE.sub("[redacted]", text)


class ProviderError(Exception):
    """A provider call failed; `reason` is safe to show to a member (never a secret)."""

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason


class ContentRefused(ProviderError):
    """The provider declined the prompt or the result (content policy, safety, moderation)."""


class RateLimited(ProviderError):
    """The provider is rate-limiting us and retries ran out."""

    def __init__(self, provider: str, reason: str, retry_after: float | None = None) -> None:
        super().__init__(provider, reason)
        self.retry_after = retry_after


class Unavailable(ProviderError):
    """The provider answered 5xx or could not be reached, after bounded retries."""


class ProviderTimeout(ProviderError):
    """The provider did not answer in time, after bounded retries."""


class InvalidRequest(ProviderError):
    """The provider rejected the request itself (4xx other than refusal or rate limit)."""


class InvalidResponse(ProviderError):
    """The provider answered, but not with what its API promises (malformed, not an image)."""


class Misconfigured(ProviderError):
    """A key is missing or rejected, or a model is unknown to the provider."""


class ModelGone(Misconfigured):
    """The provider says a model the catalog holds live does not exist (an unannounced
    shutdown): HTTP 404 model_not_found (OpenAI), NOT_FOUND (Gemini), 404 (xAI)."""

    def __init__(self, provider: str, reason: str, model_key: str, model_display: str) -> None:
        super().__init__(provider, reason)
        self.model_key = model_key
        self.model_display = model_display


class TooLarge(ProviderError):
    """A download exceeded its size cap; nothing partial is kept."""
