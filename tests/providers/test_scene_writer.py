"""Scene writers: OpenAISceneWriter through the real SDK against the stand-in, and the plain one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest

from providers.base import SceneContext
from providers.errors import (
    ContentRefused,
    InvalidRequest,
    InvalidResponse,
    Misconfigured,
    RateLimited,
)
from providers.text import MAX_SCENE_CHARS, RECENT_SCENES, OpenAISceneWriter, PlainSceneWriter
from tests.fakes.openai_api import CHAT, OpenAIStandin, Recorded, error_body

MODEL = "gpt-5.4-mini"
MAX_RETRIES = 2


@pytest.fixture
async def writer(openai_standin: OpenAIStandin) -> AsyncIterator[OpenAISceneWriter]:
    async with openai.AsyncOpenAI(
        base_url=openai_standin.base_url,
        api_key="test-key",
        max_retries=MAX_RETRIES,
        timeout=5.0,
    ) as client:
        yield OpenAISceneWriter(client, MODEL)


def messages(sent: Recorded) -> list[dict[str, str]]:
    value = sent.fields["messages"]
    assert isinstance(value, list)
    return value


def completion(content: str | None, refusal: str | None = None, finish: str = "stop") -> object:
    message = {"role": "assistant", "content": content, "refusal": refusal}
    choice = {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 1,
        "model": MODEL,
        "choices": [choice],
    }


async def test_the_request_carries_premise_earlier_scenes_and_direction(
    writer: OpenAISceneWriter, openai_standin: OpenAIStandin
) -> None:
    context = SceneContext(
        premise="A fox keeps a lighthouse.",
        earlier_scenes=("The fox lit the lamp.", "A whale sang below."),
        direction="A storm arrives.",
    )

    scene = await writer.write(context)

    assert scene == openai_standin.scene_text
    [sent] = openai_standin.requests_to(CHAT)
    assert sent.fields["model"] == MODEL
    assert isinstance(sent.fields["max_completion_tokens"], int)
    system, user = messages(sent)
    assert system["role"] == "system"
    assert "scene" in system["content"]
    assert user["role"] == "user"
    for part in ("A fox keeps a lighthouse.", "The fox lit the lamp.", "A whale sang below."):
        assert part in user["content"]
    assert "A storm arrives." in user["content"]
    assert "Write scene 3." in user["content"]


async def test_without_a_direction_the_story_simply_continues(
    writer: OpenAISceneWriter, openai_standin: OpenAIStandin
) -> None:
    await writer.write(SceneContext(premise="A fox keeps a lighthouse."))

    [sent] = openai_standin.requests_to(CHAT)
    user = messages(sent)[1]["content"]
    assert "A fox keeps a lighthouse." in user
    assert "continue the story" in user
    assert "Write scene 1." in user


async def test_only_the_most_recent_earlier_scenes_are_sent(
    writer: OpenAISceneWriter, openai_standin: OpenAIStandin
) -> None:
    earlier = tuple(f"Event number {n} happened." for n in range(1, 8))

    await writer.write(SceneContext(premise="A fox.", earlier_scenes=earlier))

    user = messages(openai_standin.requests_to(CHAT)[0])[1]["content"]
    kept, dropped = earlier[-RECENT_SCENES:], earlier[:-RECENT_SCENES]
    assert all(scene in user for scene in kept)
    assert not any(scene in user for scene in dropped)
    assert f"Scene {len(earlier)}: {earlier[-1]}" in user


async def test_the_prompt_stays_bounded_however_long_the_story(
    writer: OpenAISceneWriter, openai_standin: OpenAIStandin
) -> None:
    long = "word " * 5000
    context = SceneContext(premise=long, earlier_scenes=(long,) * 20, direction=long)

    await writer.write(context)

    user = messages(openai_standin.requests_to(CHAT)[0])[1]["content"]
    assert len(user) < 10_000


async def test_a_long_answer_is_trimmed_below_discords_embed_limit(
    writer: OpenAISceneWriter, openai_standin: OpenAIStandin
) -> None:
    openai_standin.scene_text = "Once upon a time " * 500

    scene = await writer.write(SceneContext(premise="A fox."))

    assert len(scene) <= MAX_SCENE_CHARS
    assert scene.startswith("Once upon a time")


async def test_the_answer_comes_back_stripped(
    writer: OpenAISceneWriter, openai_standin: OpenAIStandin
) -> None:
    openai_standin.scene_text = "\n  The fox smiled.  \n"

    assert await writer.write(SceneContext(premise="A fox.")) == "The fox smiled."


@pytest.mark.parametrize("content", ["", "   \n", None])
async def test_an_empty_answer_is_an_invalid_response(
    content: str | None, writer: OpenAISceneWriter, openai_standin: OpenAIStandin
) -> None:
    openai_standin.queue(CHAT, json=completion(content))

    with pytest.raises(InvalidResponse):
        await writer.write(SceneContext(premise="A fox."))


async def test_an_answer_without_choices_is_an_invalid_response(
    writer: OpenAISceneWriter, openai_standin: OpenAIStandin
) -> None:
    openai_standin.queue(CHAT, json={"id": "c", "object": "chat.completion", "choices": []})

    with pytest.raises(InvalidResponse):
        await writer.write(SceneContext(premise="A fox."))


async def test_malformed_json_is_an_invalid_response(
    writer: OpenAISceneWriter, openai_standin: OpenAIStandin
) -> None:
    openai_standin.malformed(CHAT)

    with pytest.raises(InvalidResponse):
        await writer.write(SceneContext(premise="A fox."))


async def test_a_model_refusal_is_content_refused_with_its_reason(
    writer: OpenAISceneWriter, openai_standin: OpenAIStandin
) -> None:
    openai_standin.queue(CHAT, json=completion(None, refusal="I can't write that scene."))

    with pytest.raises(ContentRefused) as caught:
        await writer.write(SceneContext(premise="A fox."))

    assert caught.value.reason == "I can't write that scene."


async def test_a_content_filtered_answer_is_content_refused(
    writer: OpenAISceneWriter, openai_standin: OpenAIStandin
) -> None:
    openai_standin.queue(CHAT, json=completion(None, finish="content_filter"))

    with pytest.raises(ContentRefused):
        await writer.write(SceneContext(premise="A fox."))


async def test_a_rate_limit_that_never_clears_is_rate_limited_after_bounded_retries(
    writer: OpenAISceneWriter, openai_standin: OpenAIStandin
) -> None:
    openai_standin.always(CHAT, status=429, headers={"retry-after-ms": "1"})

    with pytest.raises(RateLimited):
        await writer.write(SceneContext(premise="A fox."))

    assert len(openai_standin.requests_to(CHAT)) == MAX_RETRIES + 1


async def test_a_bad_request_is_invalid_request_with_the_providers_message(
    writer: OpenAISceneWriter, openai_standin: OpenAIStandin
) -> None:
    openai_standin.queue(CHAT, status=400, json=error_body(400, "Unsupported parameter."))

    with pytest.raises(InvalidRequest, match="Unsupported parameter"):
        await writer.write(SceneContext(premise="A fox."))


async def test_a_rejected_key_is_misconfigured_and_the_text_contains_no_key(
    writer: OpenAISceneWriter, openai_standin: OpenAIStandin
) -> None:
    key = "sk-proj-Abc123Def456Ghi789"
    body = error_body(401, f"Incorrect API key provided: {key}.", "invalid_api_key")
    openai_standin.queue(CHAT, status=401, json=body)

    with pytest.raises(Misconfigured) as caught:
        await writer.write(SceneContext(premise="A fox."))

    assert key not in str(caught.value)


async def test_plain_writer_returns_the_premise_without_a_direction() -> None:
    scene = await PlainSceneWriter().write(SceneContext(premise="  A fox keeps a lighthouse. "))

    assert scene == "A fox keeps a lighthouse."


async def test_plain_writer_returns_the_direction_when_given() -> None:
    context = SceneContext(premise="A fox.", earlier_scenes=("x",), direction=" A storm. ")

    assert await PlainSceneWriter().write(context) == "A storm."


async def test_plain_writer_falls_back_to_the_premise_for_a_blank_direction() -> None:
    context = SceneContext(premise="A fox.", direction="   ")

    assert await PlainSceneWriter().write(context) == "A fox."


async def test_plain_writer_keeps_long_text_below_discords_embed_limit() -> None:
    scene = await PlainSceneWriter().write(SceneContext(premise="word " * 2000))

    assert len(scene) <= MAX_SCENE_CHARS
