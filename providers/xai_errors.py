"""xAI's errors on top of the OpenAI SDK's mapping: a 400 that says content moderation blocked
the prompt or a picture is a refusal, not a malformed request (SPEC §10).

xAI documents this answer only in prose (`{"code": …, "error": "<text>"}` with HTTP 400), so the
refusal is recognised by its text."""

from __future__ import annotations

import re

import openai

from providers.errors import ContentRefused, InvalidRequest, ProviderError
from providers.openai_errors import translate, translate_image_call
from providers.registry import ModelSpec

PROVIDER = "xAI"
_MODERATION = re.compile(r"moderat|content[ _-]?polic|safety (?:check|filter|system)", re.I)


def translate_xai(exc: openai.OpenAIError, spec: ModelSpec | None = None) -> ProviderError:
    """The OpenAI SDK's exception from a call to xAI → our error tree; on an image call of
    `spec`, any 404 means xAI does not serve the model (ModelGone)."""
    if spec is not None:
        error = translate_image_call(exc, PROVIDER, spec, any_404=True)
    else:
        error = translate(exc, PROVIDER)
    if isinstance(error, InvalidRequest) and _MODERATION.search(error.reason):
        return ContentRefused(PROVIDER, error.reason)
    return error
