"""Scene text on xAI (the OpenAI SDK at xAI's base URL) and on Gemini (google-genai, aiohttp),
each through the real SDK against its loopback stand-in; errors name the provider that failed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest

from providers.base import SceneContext
from providers.errors import (
    ContentRefused,
    InvalidResponse,
    Misconfigured,
    ModelGone,
    ProviderTimeout,
    RateLimited,
    Unavailable,
)
from providers.gemini import gemini_client
from providers.gemini_text import GeminiSceneWriter
from providers.registry import TEXT_MODELS, Provider
from providers.text import SYSTEM_PROMPT, OpenAISceneWriter
from tests.fakes.gemini_api import GeminiStandin, answer
from tests.fakes.xai_api import CHAT, XAIStandin, chat_answer

XAI_MODEL = next(m.api_model for m in TEXT_MODELS if m.provider is Provider.XAI)
GEMINI_MODEL = next(m.api_model for m in TEXT_MODELS if m.provider is Provider.GEMINI)
XAI_KEY = "xai-Abc123Def456Ghi789"
GEMINI_KEY = "AIzaSyTestKey-0123456789abcdefghijklmn"
ATTEMPTS = 3
CONTEXT = SceneContext(
    premise="A fox keeps a lighthouse.",
    earlier_scenes=("The fox lit the lamp.",),
    direction="A storm arrives.",
)


@pytest.fixture
async def xai_writer(xai_standin: XAIStandin) -> AsyncIterator[OpenAISceneWriter]:
    async with openai.AsyncOpenAI(
        base_url=xai_standin.base_url, api_key=XAI_KEY, max_retries=ATTEMPTS - 1, timeout=5.0
    ) as client:
        yield OpenAISceneWriter.on_xai(client, XAI_MODEL)


@pytest.fixture
async def gemini_writer(gemini_standin: GeminiStandin) -> AsyncIterator[GeminiSceneWriter]:
    client = gemini_client(GEMINI_KEY, gemini_standin.base_url, 5.0, ATTEMPTS, initial_delay=0.01)
    yield GeminiSceneWriter(client, GEMINI_MODEL, timeout_seconds=5.0)
    await client.aio.aclose()


# -- xAI ------------------------------------------------------------------------------------


async def test_xai_writes_the_scene_from_premise_earlier_scenes_and_direction(
    xai_writer: OpenAISceneWriter, xai_standin: XAIStandin
) -> None:
    xai_standin.scene_text = "  Thunder rolled over the lighthouse as the fox held the lamp.\n"

    scene = await xai_writer.write(CONTEXT)

    assert scene == "Thunder rolled over the lighthouse as the fox held the lamp."
    [sent] = xai_standin.requests_to(CHAT)
    assert sent.headers["authorization"] == f"Bearer {XAI_KEY}"
    assert sent.fields["model"] == "grok-4.20-non-reasoning"
    messages = sent.fields["messages"]
    assert isinstance(messages, list)
    system, user = messages
    assert system == {"role": "system", "content": SYSTEM_PROMPT}
    assert user["role"] == "user"
    for part in ("A fox keeps a lighthouse.", "The fox lit the lamp.", "A storm arrives."):
        assert part in user["content"]


async def test_an_xai_refusal_is_content_refused_from_xai(
    xai_writer: OpenAISceneWriter, xai_standin: XAIStandin
) -> None:
    xai_standin.queue(CHAT, json=chat_answer(None, refusal="I won't write that scene."))

    with pytest.raises(ContentRefused) as caught:
        await xai_writer.write(CONTEXT)

    assert (caught.value.provider, caught.value.reason) == ("xAI", "I won't write that scene.")


async def test_xais_moderation_400_is_content_refused(
    xai_writer: OpenAISceneWriter, xai_standin: XAIStandin
) -> None:
    xai_standin.block(CHAT, "Prompt rejected by content moderation.")

    with pytest.raises(ContentRefused) as caught:
        await xai_writer.write(CONTEXT)

    assert caught.value.provider == "xAI"
    assert len(xai_standin.requests_to(CHAT)) == 1, "a refusal is never retried"


async def test_an_xai_content_filtered_answer_is_content_refused(
    xai_writer: OpenAISceneWriter, xai_standin: XAIStandin
) -> None:
    xai_standin.queue(CHAT, json=chat_answer(None, finish="content_filter"))

    with pytest.raises(ContentRefused, match=r"^xAI: "):
        await xai_writer.write(CONTEXT)


async def test_an_xai_rate_limit_that_never_clears_is_rate_limited_from_xai(
    xai_writer: OpenAISceneWriter, xai_standin: XAIStandin
) -> None:
    xai_standin.always(CHAT, status=429, headers={"retry-after-ms": "1"})

    with pytest.raises(RateLimited) as caught:
        await xai_writer.write(CONTEXT)

    assert caught.value.provider == "xAI"
    assert len(xai_standin.requests_to(CHAT)) == ATTEMPTS


async def test_a_text_model_xai_does_not_serve_is_misconfigured_naming_xai(
    xai_standin: XAIStandin,
) -> None:
    async with openai.AsyncOpenAI(
        base_url=xai_standin.base_url, api_key=XAI_KEY, max_retries=0
    ) as client:
        writer = OpenAISceneWriter.on_xai(client, "grok-9-imaginary")
        with pytest.raises(Misconfigured) as caught:
            await writer.write(CONTEXT)

    assert caught.value.provider == "xAI"
    assert "grok-9-imaginary" in caught.value.reason


async def test_a_rejected_xai_key_is_misconfigured_without_the_key(
    xai_standin: XAIStandin, xai_writer: OpenAISceneWriter
) -> None:
    xai_standin.api_key = "xai-the-right-one-000000"

    with pytest.raises(Misconfigured) as caught:
        await xai_writer.write(CONTEXT)

    assert caught.value.provider == "xAI"
    assert XAI_KEY not in str(caught.value)


async def test_a_broken_xai_answer_is_an_invalid_response_from_xai(
    xai_writer: OpenAISceneWriter, xai_standin: XAIStandin
) -> None:
    xai_standin.queue(CHAT, body=b'{"id": "x", "choices": [{"message": ')

    with pytest.raises(InvalidResponse, match=r"^xAI: "):
        await xai_writer.write(CONTEXT)


# -- Gemini ---------------------------------------------------------------------------------


async def test_gemini_writes_the_scene_as_text_only_with_the_system_instruction(
    gemini_writer: GeminiSceneWriter, gemini_standin: GeminiStandin
) -> None:
    gemini_standin.scene_text = "Rain lashed the lamp room while the fox kept the light."

    scene = await gemini_writer.write(CONTEXT)

    assert scene == "Rain lashed the lamp room while the fox kept the light."
    [sent] = gemini_standin.requests
    assert sent.model == "gemini-3.8-flash"
    assert sent.system == SYSTEM_PROMPT
    assert sent.kinds == ("text",)
    for part in ("A fox keeps a lighthouse.", "The fox lit the lamp.", "A storm arrives."):
        assert part in sent.texts[0]
    assert "IMAGE" not in str(sent.generation_config.get("responseModalities"))
    assert isinstance(sent.generation_config.get("maxOutputTokens"), int)


async def test_geminis_thinking_drafts_are_not_the_scene(
    gemini_writer: GeminiSceneWriter, gemini_standin: GeminiStandin
) -> None:
    draft = {"text": "Plan: a storm, then the lamp.", "thought": True}
    gemini_standin.queue(json=answer([draft, {"text": "The storm broke "}, {"text": "at dusk."}]))

    assert await gemini_writer.write(CONTEXT) == "The storm broke at dusk."


async def test_a_blocked_prompt_is_content_refused_from_gemini(
    gemini_writer: GeminiSceneWriter, gemini_standin: GeminiStandin
) -> None:
    gemini_standin.block_prompt("PROHIBITED_CONTENT")

    with pytest.raises(ContentRefused) as caught:
        await gemini_writer.write(CONTEXT)

    assert caught.value.provider == "Gemini"
    assert "PROHIBITED_CONTENT" in caught.value.reason
    assert len(gemini_standin.requests) == 1, "a refusal is never retried"


@pytest.mark.parametrize("finish", ["SAFETY", "BLOCKLIST", "SPII", "PUP_LIMITED_DISABLED"])
async def test_a_safety_finish_is_content_refused_from_gemini(
    finish: str, gemini_writer: GeminiSceneWriter, gemini_standin: GeminiStandin
) -> None:
    gemini_standin.finish(finish)

    with pytest.raises(ContentRefused) as caught:
        await gemini_writer.write(CONTEXT)

    assert caught.value.reason == f"the scene was withheld ({finish})"


async def test_an_answer_without_text_is_an_invalid_response(
    gemini_writer: GeminiSceneWriter, gemini_standin: GeminiStandin
) -> None:
    gemini_standin.finish("MAX_TOKENS")

    with pytest.raises(InvalidResponse, match=r"^Gemini: the answer contained no scene"):
        await gemini_writer.write(CONTEXT)


async def test_a_gemini_rate_limit_that_never_clears_is_rate_limited_after_the_retries(
    gemini_writer: GeminiSceneWriter, gemini_standin: GeminiStandin
) -> None:
    gemini_standin.rate_limit(retry_delay="7s", times=None)

    with pytest.raises(RateLimited) as caught:
        await gemini_writer.write(CONTEXT)

    assert (caught.value.provider, caught.value.retry_after) == ("Gemini", 7.0)
    assert len(gemini_standin.requests) == ATTEMPTS


async def test_a_gemini_outage_is_unavailable(
    gemini_writer: GeminiSceneWriter, gemini_standin: GeminiStandin
) -> None:
    gemini_standin.server_error(503, times=None)

    with pytest.raises(Unavailable, match=r"^Gemini: "):
        await gemini_writer.write(CONTEXT)


async def test_a_text_model_gemini_does_not_serve_is_misconfigured_not_a_withdrawn_picture_model(
    gemini_standin: GeminiStandin,
) -> None:
    client = gemini_client(GEMINI_KEY, gemini_standin.base_url, 5.0, 1)
    try:
        writer = GeminiSceneWriter(client, "gemini-0-imaginary", timeout_seconds=5.0)
        with pytest.raises(Misconfigured) as caught:
            await writer.write(CONTEXT)
    finally:
        await client.aio.aclose()

    assert not isinstance(caught.value, ModelGone)
    assert caught.value.provider == "Gemini"
    assert "gemini-0-imaginary" in caught.value.reason


async def test_the_scene_call_has_its_own_timeout_shorter_than_the_clients(
    gemini_standin: GeminiStandin,
) -> None:
    client = gemini_client(GEMINI_KEY, gemini_standin.base_url, 60.0, 1)
    gemini_standin.delay(5)
    try:
        writer = GeminiSceneWriter(client, GEMINI_MODEL, timeout_seconds=0.5)
        with pytest.raises(ProviderTimeout, match=r"^Gemini: "):
            await writer.write(CONTEXT)
    finally:
        await client.aio.aclose()
