"""Provider moderation end to end (SPEC §10, docs/RELIABILITY.md): Gemini's safety finish
reasons and blocked prompts, and xAI's silent moderation (HTTP 200 with no picture), each end
in an ephemeral "declined" naming the reason, with nothing public, nothing charged and no retry."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Harness
from tests.e2e.helpers import (
    PREMISE,
    SCENES_USED,
    error_after_deferral,
    no_public_messages,
    start_story,
    usage_field,
)
from tests.fakes.discord import Upload
from tests.fakes.pictures import png
from tests.fakes.xai_api import BLOCKED, EDITS, GENERATIONS

STRICT_QUOTA = True  # no story is deleted here: pictures charged == pictures drawn


async def _declined(
    harness: Harness, model: str, attachments: dict[str, Upload] | None = None
) -> str:
    ix = await harness.discord.slash(
        "story", "start", options={"premise": PREMISE, "model": model}, attachments=attachments
    )
    text = await error_after_deferral(harness, ix)  # ephemeral, placeholder removed
    assert "declined this prompt" in text, text
    assert no_public_messages(harness)
    assert (await usage_field(harness, SCENES_USED)).startswith("0 of"), "a refusal is not charged"
    return text


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (lambda g: g.finish("IMAGE_SAFETY"), "IMAGE_SAFETY"),
        (lambda g: g.finish("PROHIBITED_CONTENT"), "PROHIBITED_CONTENT"),
        (lambda g: g.block_prompt("SAFETY"), "SAFETY"),
    ],
    ids=["image-safety", "prohibited-content", "blocked-prompt"],
)
async def test_a_gemini_safety_refusal_ends_in_declined_with_its_reason_uncharged(
    harness: Harness, script: object, reason: str
) -> None:
    await harness.start()
    script(harness.gemini)  # type: ignore[operator]
    text = await _declined(harness, "gemini")
    assert "gemini" in text.lower(), "the refusal names the provider"
    assert reason in text
    assert len(harness.gemini.requests) == 1, "a refusal is never retried"
    # The refusal left nothing behind: the next story is drawn and charged once.
    assert (await start_story(harness, options={"model": "gemini"})).filenames == ["scene.png"]
    assert (await usage_field(harness, SCENES_USED)).startswith("1 of")


@pytest.mark.parametrize("blank_item", [False, True], ids=["empty-data", "item-without-picture"])
async def test_xai_silent_moderation_of_a_generation_ends_in_declined_uncharged(
    harness: Harness, blank_item: bool
) -> None:
    await harness.start()
    harness.xai.moderate(GENERATIONS, blank_item=blank_item)
    text = await _declined(harness, "grok-imagine")
    assert "moderation" in text
    assert len(harness.xai.requests_to(GENERATIONS)) == 1, "a refusal is never retried"
    assert (await start_story(harness, options={"model": "grok-imagine"})).filenames == [
        "scene.png"
    ]
    assert (await usage_field(harness, SCENES_USED)).startswith("1 of")


async def test_xai_silent_moderation_of_an_edit_ends_in_declined_uncharged(
    harness: Harness,
) -> None:
    await harness.start()
    harness.xai.moderate(EDITS)
    photos = {"reference": Upload(png((32, 32), "green"), "cat.png")}
    text = await _declined(harness, "grok-imagine", photos)
    assert "moderation" in text
    assert len(harness.xai.requests_to(EDITS)) == 1, "a refusal is never retried"


@pytest.mark.parametrize("photo", [False, True], ids=["generation", "edit"])
async def test_an_xai_400_saying_moderation_blocked_it_ends_in_declined_uncharged(
    harness: Harness, photo: bool
) -> None:
    """xAI's spoken moderation (HTTP 400 naming content moderation) is a refusal, not
    "xAI rejected the request"."""
    await harness.start()
    route = EDITS if photo else GENERATIONS
    harness.xai.block(route)
    photos = {"reference": Upload(png((32, 32), "green"), "cat.png")} if photo else None
    text = await _declined(harness, "grok-imagine", photos)
    assert BLOCKED in text
    assert "rejected the request" not in text
    assert len(harness.xai.requests_to(route)) == 1, "a refusal is never retried"
