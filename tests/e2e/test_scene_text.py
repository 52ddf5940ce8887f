"""Scene text on whichever provider has a key (SPEC §3): with only an xAI or only a Gemini key,
`/story continue` writes the next scene with that provider's chat model instead of repeating
the member's words."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.harness import Harness
from tests.e2e.helpers import (
    PREMISE,
    error_after_deferral,
    image_calls,
    no_public_messages,
    start_story,
)
from tests.fakes.openai_api import CHAT as OPENAI_CHAT
from tests.fakes.xai_api import CHAT as XAI_CHAT

DIRECTION = "the fox climbs the lighthouse"
SCENE_1 = "Scene one: the fox finds a brass key in the tide pool."
SCENE_2 = "Scene two: the key turns, and the lighthouse stairs spiral up into the fog."


async def continue_story(harness: Harness) -> str:
    ix = await harness.discord.slash("story", "continue", options={"direction": DIRECTION})
    message = await ix.wait_for_final()
    assert message is not None
    assert message.embeds, f"the story did not move on: {message.content!r}"
    assert message.embeds[0]["author"]["name"] == "Scene 2"
    return str(message.embeds[0]["description"])


async def test_with_only_an_xai_key_grok_writes_the_scenes(harness: Harness) -> None:
    harness.env(OPENAI_API_KEY="", GEMINI_API_KEY="")
    await harness.start()
    harness.xai.scene_text = SCENE_1
    first = await start_story(harness)
    harness.xai.scene_text = SCENE_2

    second = await continue_story(harness)

    assert first.embeds[0]["description"] == SCENE_1
    assert second == SCENE_2
    assert second not in (PREMISE, DIRECTION)
    chats = harness.xai.requests_to(XAI_CHAT)
    assert [chat.fields["model"] for chat in chats] == ["grok-4.20-non-reasoning"] * 2
    prompt = str(chats[-1].fields["messages"])
    assert SCENE_1 in prompt
    assert DIRECTION in prompt
    assert image_calls(harness) == 2  # each scene drawn once, by Grok Imagine
    assert not harness.openai.requests_to(OPENAI_CHAT)


async def test_text_model_names_the_model_on_the_provider_chosen(harness: Harness) -> None:
    harness.env(OPENAI_API_KEY="", GEMINI_API_KEY="", TEXT_MODEL="grok-4.3")
    await harness.start()

    await start_story(harness)

    [chat] = harness.xai.requests_to(XAI_CHAT)
    assert chat.fields["model"] == "grok-4.3"


async def test_with_only_a_gemini_key_gemini_writes_the_scenes(harness: Harness) -> None:
    harness.env(OPENAI_API_KEY="", XAI_API_KEY="")
    await harness.start()
    harness.gemini.scene_text = SCENE_1
    first = await start_story(harness)
    harness.gemini.scene_text = SCENE_2

    second = await continue_story(harness)

    assert first.embeds[0]["description"] == SCENE_1
    assert second == SCENE_2
    texts = [r for r in harness.gemini.requests if r.system]
    assert [r.model for r in texts] == ["gemini-3.8-flash"] * 2
    assert SCENE_1 in texts[-1].texts[0]
    assert DIRECTION in texts[-1].texts[0]
    assert image_calls(harness) == 2  # each scene drawn once, by Gemini
    assert not harness.xai.requests
    assert not harness.openai.requests


@pytest.mark.parametrize(
    ("keys", "refuse", "provider"),
    [
        ({"OPENAI_API_KEY": "", "GEMINI_API_KEY": ""},
         lambda h: h.xai.block(XAI_CHAT, "Prompt rejected by content moderation."), "xAI"),
        ({"OPENAI_API_KEY": "", "XAI_API_KEY": ""},
         lambda h: h.gemini.block_prompt("PROHIBITED_CONTENT"), "Gemini"),
    ],
    ids=["xai", "gemini"],
)  # fmt: skip
async def test_a_refused_scene_is_declined_naming_its_provider_and_draws_nothing(
    harness: Harness, keys: dict[str, str], refuse: Callable[[Harness], None], provider: str
) -> None:
    harness.env(**keys)
    await harness.start()
    refuse(harness)

    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE})
    text = await error_after_deferral(harness, ix)

    assert "declined" in text, text
    assert provider in text, text
    assert no_public_messages(harness)
    assert image_calls(harness) == 0


@pytest.mark.parametrize("keys", [{}, {"OPENAI_API_KEY": ""}])
async def test_with_an_openai_key_openai_still_writes_first(
    harness: Harness, keys: dict[str, str]
) -> None:
    harness.env(**keys)
    await harness.start()

    message = await start_story(harness)

    if keys:
        assert message.embeds[0]["description"] == harness.xai.scene_text
    else:
        assert message.embeds[0]["description"] == harness.openai.scene_text
        assert not harness.xai.requests_to(XAI_CHAT)
