"""Scene text written by Gemini (generateContent, text only) through google-genai.

Kept apart from providers/text.py: google-genai is the heaviest SDK to import, and the bot
imports it only when a Gemini key is set."""

from __future__ import annotations

from google import genai
from google.genai import types

from providers import gemini
from providers.base import SceneContext
from providers.errors import InvalidResponse
from providers.text import MAX_COMPLETION_TOKENS, MAX_SCENE_CHARS, SYSTEM_PROMPT, scene_prompt, trim


class GeminiSceneWriter:
    """SceneWriter on Gemini's generateContent, text only; the client's retries apply, and each
    call carries its own timeout (the client's is sized for pictures)."""

    def __init__(self, client: genai.Client, model: str, timeout_seconds: float) -> None:
        self._client = client
        self._model = model
        self._timeout_ms = max(1, round(timeout_seconds * 1000))

    async def write(self, context: SceneContext) -> str:
        config = types.GenerateContentConfig(
            system_instruction=SYSTEM_PROMPT,
            max_output_tokens=MAX_COMPLETION_TOKENS,
            http_options=types.HttpOptions(timeout=self._timeout_ms),
        )
        response = await gemini.generate_content(
            self._client, self._model, scene_prompt(context), config
        )
        candidate = gemini.answered(response, "the scene")
        text = trim(gemini.words(candidate, sep=""), MAX_SCENE_CHARS)
        if not text:
            raise InvalidResponse(gemini.PROVIDER, "the answer contained no scene")
        return text
