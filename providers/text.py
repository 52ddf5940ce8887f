"""Scene text: a chat model writes it (OpenAI's or xAI's chat completions through the OpenAI
SDK; Gemini's writer is in providers/gemini_text.py, so google-genai is imported only where a
Gemini key is set), or, without any key, the member's own words stand."""

from __future__ import annotations

import json
from collections.abc import Callable

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessage

from providers.base import SceneContext
from providers.errors import ContentRefused, InvalidResponse, ProviderError
from providers.openai_errors import translate
from providers.xai_errors import PROVIDER as XAI
from providers.xai_errors import translate_xai

PROVIDER = "OpenAI"
ErrorMap = Callable[[openai.OpenAIError], ProviderError]
# The request options the SDK's typed methods pass (the API key as a bearer token; client.post
# alone would also offer an admin key): the calls that go through client.post pass them too.
BEARER: openai.RequestOptions = {"security": {"bearer_auth": True}}
# Discord's embed description holds 4096 characters; the rest of the embed needs some room.
MAX_SCENE_CHARS = 3500
# Room for a reasoning model's hidden tokens as well as the ~180 words of the scene itself.
MAX_COMPLETION_TOKENS = 2000
# The prompt stays small however long a story gets: the premise, the last few scenes, the wish.
RECENT_SCENES = 3
MAX_PREMISE_CHARS = 2000
MAX_EARLIER_SCENE_CHARS = 1200
MAX_DIRECTION_CHARS = 1000

SYSTEM_PROMPT = (
    "You write one scene at a time of an illustrated story told in a Discord server. "
    "Write a vivid scene of 120 to 180 words in plain prose: concrete places, characters "
    "and actions that an illustrator can draw. Continue the story consistently with the "
    "earlier scenes and follow the member's direction when one is given. Keep it safe for "
    "a general audience: no graphic violence, sexual content, hate or real people's private "
    "data. Answer with the scene text only, without a title, heading or scene number."
)


def trim(text: str, limit: int) -> str:
    """`text` stripped and cut to at most `limit` characters, at a word boundary if possible."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def scene_prompt(context: SceneContext) -> str:
    """The user message: premise, the most recent earlier scenes, and the member's direction."""
    number = len(context.earlier_scenes) + 1
    parts = [f"Premise: {trim(context.premise, MAX_PREMISE_CHARS)}"]
    recent = context.earlier_scenes[-RECENT_SCENES:]
    first = number - len(recent)
    for offset, scene in enumerate(recent):
        parts.append(f"Scene {first + offset}: {trim(scene, MAX_EARLIER_SCENE_CHARS)}")
    direction = (context.direction or "").strip()
    if direction:
        parts.append(f"Direction for scene {number}: {trim(direction, MAX_DIRECTION_CHARS)}")
    else:
        parts.append(f"Direction for scene {number}: continue the story naturally.")
    parts.append(f"Write scene {number}.")
    return "\n\n".join(parts)


class OpenAISceneWriter:
    """SceneWriter on the chat completions API, OpenAI's or an OpenAI-compatible one such as
    xAI's (`provider` names it in errors, `errors` maps its SDK exceptions); the injected client
    owns timeouts and retries."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        model: str,
        *,
        provider: str = PROVIDER,
        errors: ErrorMap | None = None,
    ) -> None:
        self._client = client
        self._model = model
        self._provider = provider
        self._errors: ErrorMap = errors or (lambda exc: translate(exc, provider))

    @classmethod
    def on_xai(cls, client: openai.AsyncOpenAI, model: str) -> OpenAISceneWriter:
        """xAI's chat completions through the OpenAI SDK (`client` at XAI_BASE_URL)."""
        return cls(client, model, provider=XAI, errors=translate_xai)

    async def write(self, context: SceneContext) -> str:
        body = {
            "model": self._model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": scene_prompt(context)},
            ],
            "max_completion_tokens": MAX_COMPLETION_TOKENS,
        }
        try:
            # chat.completions.create's request through the SDK's own path (client, retries,
            # errors, the typed ChatCompletion) without its walk over the parameter types,
            # which cost ~0.4 ms of event-loop CPU per scene and changes nothing in a body of
            # plain strings (docs/PERFORMANCE.md, lever 10).
            answer: object = await self._client.post(
                "/chat/completions", body=body, cast_to=ChatCompletion, options=BEARER
            )
        except openai.OpenAIError as exc:
            raise self._errors(exc) from exc
        except json.JSONDecodeError as exc:  # the SDK lets a broken JSON body through as is
            raise InvalidResponse(self._provider, "the answer was not valid JSON") from exc
        return _scene(answer, self._provider)


def _scene(answer: object, provider: str) -> str:
    """The scene text of a completion; typed loosely as the SDK may hand back raw text."""
    choices = answer.choices if isinstance(answer, ChatCompletion) else None
    choice = choices[0] if choices else None
    message = getattr(choice, "message", None)
    if not isinstance(message, ChatCompletionMessage):
        raise InvalidResponse(provider, "the answer contained no scene")
    if message.refusal:
        raise ContentRefused(provider, trim(message.refusal, 500))
    text = trim(message.content or "", MAX_SCENE_CHARS)
    if not text:
        if getattr(choice, "finish_reason", None) == "content_filter":
            raise ContentRefused(provider, "the scene was withheld by the content filter")
        raise InvalidResponse(provider, "the answer contained no scene")
    return text


class PlainSceneWriter:
    """Without any provider key the scene text is the member's direction, else the premise."""

    async def write(self, context: SceneContext) -> str:
        direction = (context.direction or "").strip()
        return trim(direction or context.premise, MAX_SCENE_CHARS)
