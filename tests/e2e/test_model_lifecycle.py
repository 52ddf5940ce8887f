"""Models by date and a model that dies unannounced, end to end (SPEC §4): the real bot, the
loopback Discord and provider stand-ins, and an injected clock instead of waiting for a day."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import openai
import pytest

from tests.e2e.harness import Harness
from tests.e2e.helpers import (
    SCENES_USED,
    error_after_deferral,
    no_public_messages,
    start_story,
    usage_field,
)
from tests.fakes.discord import MANAGER_PERMISSIONS
from tests.fakes.openai_api import EDITS, GENERATIONS, Recorded

NOV_30 = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
GONE = "GPT Image 2 is not available from OpenAI right now; pick another model."


def drawn_with(harness: Harness) -> list[str]:
    calls = harness.openai.requests_to(GENERATIONS) + harness.openai.requests_to(EDITS)
    return [str(call.fields["model"]) for call in calls]


async def choices(harness: Harness) -> list[str]:
    found = await harness.discord.autocomplete("story", "start", focused="model", value="")
    return [choice["value"] for choice in found]


async def test_a_story_of_gpt_image_1_mini_is_drawn_by_gpt_image_2_from_1_december(
    harness: Harness,
) -> None:
    harness.now = NOV_30
    await harness.start()
    first = await start_story(harness, options={"model": "gpt-image-1-mini"})
    assert first.embeds[0]["footer"]["text"] == "Drawn with GPT Image 1 Mini"

    harness.now = DEC_1  # the bot carries on: no restart, no release
    harness.openai.today = DEC_1.date()
    ix = await harness.discord.slash("story", "continue")
    second = await ix.wait_for_final()

    assert second is not None
    assert second.embeds, second.content
    assert second.embeds[0]["footer"]["text"] == (
        "GPT Image 1 Mini was retired on 1 Dec 2026; drawn with GPT Image 2"
    )
    assert drawn_with(harness) == ["gpt-image-1-mini", "gpt-image-2"]
    assert "gpt-image-1-mini" not in await choices(harness)


async def test_a_model_that_retires_while_its_scene_is_written_is_not_sent(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked at 23:59 on 30 Nov, drawn after midnight: the date of the call decides."""
    harness.now = DEC_1 - timedelta(seconds=1)
    await harness.start()
    write_scene = harness.openai._completion

    def across_midnight(recorded: Recorded) -> object:
        harness.now = DEC_1  # the scene's text took a few seconds: it is 1 December now
        harness.openai.today = DEC_1.date()
        return write_scene(recorded)

    monkeypatch.setattr(harness.openai, "_completion", across_midnight)

    message = await start_story(harness, options={"model": "gpt-image-1-mini"})

    assert drawn_with(harness) == ["gpt-image-2"], "a retired model is never sent"
    assert message.embeds[0]["footer"]["text"] == (
        "GPT Image 1 Mini was retired on 1 Dec 2026; drawn with GPT Image 2"
    )


async def test_a_guild_default_naming_a_retired_model_falls_to_the_tiers_first_model(
    harness: Harness,
) -> None:
    harness.env(DEFAULT_TIER="standard", OPENAI_API_KEY="")  # gpt-image-2 cannot draw here
    harness.now = NOV_30
    await harness.start()
    await harness.bot.services.policy.set_default_model(  # type: ignore[union-attr]  # started
        harness.discord.guilds[0].id, "gpt-image-1-mini"
    )
    harness.now = DEC_1

    message = await start_story(harness)

    assert message.embeds[0]["footer"]["text"] == (
        "GPT Image 1 Mini was retired on 1 Dec 2026; its successor GPT Image 2 is not available "
        "on this server's tier, so drawn with Grok Imagine"
    )
    assert len(harness.xai.requests_to("/v1/images/generations")) == 1


@pytest.mark.parametrize("quality", ["low", "medium", "high"])
async def test_each_tier_sends_its_quality_and_counts_its_cost(
    harness: Harness, quality: str
) -> None:
    tier = {"low": "free", "medium": "standard", "high": "premium"}[quality]
    cost = {"low": "$0.01", "medium": "$0.05", "high": "$0.21"}[quality]
    harness.env(DEFAULT_TIER=tier)
    await harness.start()

    await start_story(harness)

    [call] = harness.openai.requests_to(GENERATIONS)
    assert (call.fields["model"], call.fields["quality"]) == ("gpt-image-2", quality)
    assert await usage_field(harness, "Estimated cost") == cost


async def test_grok_imagine_is_never_sent_a_quality(harness: Harness) -> None:
    await harness.start()
    await start_story(harness, options={"model": "grok-imagine"})
    [call] = harness.xai.requests_to("/v1/images/generations")
    assert "quality" not in call.fields


async def test_a_model_that_dies_unannounced_is_withdrawn_for_an_hour(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.env(DEFAULT_TIER="free")
    harness.now = NOV_30
    await harness.start()
    del harness.openai.models["gpt-image-2"]  # OpenAI answers 404 model_not_found from now on

    with caplog.at_level(logging.WARNING):
        ix = await harness.discord.slash("story", "start", options={"premise": "A fox"})
        assert await error_after_deferral(harness, ix) == GONE

    assert no_public_messages(harness)
    assert await usage_field(harness, SCENES_USED) == "0 of 25", "nothing is counted"
    assert await choices(harness) == ["grok-imagine"]
    models = await harness.discord.slash("models")
    shown = await models.wait_for_final()
    assert shown is not None
    assert "GPT Image 2" not in shown.embeds[0]["description"]

    typed = await harness.discord.slash(
        "story", "start", options={"premise": "A fox", "model": "gpt-image-2"}
    )
    refused = await typed.wait_for_final()
    assert refused is not None
    assert refused.content == GONE
    assert typed.ephemeral
    other = await start_story(harness)  # every other model keeps working
    assert other.embeds[0]["footer"]["text"] == "Drawn with Grok Imagine"
    assert drawn_with(harness) == ["gpt-image-2"], "the dead model was asked once"

    harness.now = NOV_30 + timedelta(minutes=59)
    assert await choices(harness) == ["grok-imagine"]
    harness.now = NOV_30 + timedelta(hours=1)
    assert await choices(harness) == ["gpt-image-2", "grok-imagine"], "tried again after the hour"
    warnings = [r for r in caplog.records if "MODELS_FILE" in r.getMessage()]
    assert [r.levelno for r in warnings] == [logging.WARNING], "said once, at WARNING"
    assert '[models."gpt-image-2"]' in warnings[0].getMessage()


async def test_the_openai_stand_in_lists_what_it_serves_by_its_date(harness: Harness) -> None:
    harness.openai.today = date(2026, 11, 30)
    async with openai.AsyncOpenAI(base_url=harness.openai.base_url, api_key="k") as client:
        before = {model.id async for model in client.models.list()}
        harness.openai.today = date(2026, 12, 1)
        after = {model.id async for model in client.models.list()}
    assert {"gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2"} <= before
    assert "gpt-image-1" not in before
    assert before - after == {"gpt-image-1-mini", "gpt-image-1.5", "chatgpt-image-latest"}


async def test_a_manager_setting_a_retired_default_gets_its_successor(harness: Harness) -> None:
    harness.now = DEC_1
    await harness.start()
    ix = await harness.discord.slash(
        "settings", "model", options={"model": "gpt-image-1.5"}, permissions=MANAGER_PERMISSIONS
    )
    reply = await ix.wait_for_final()
    assert reply is not None
    assert "GPT Image 2" in reply.content


async def test_usage_counts_the_cost_xai_reports_instead_of_the_estimate(
    harness: Harness,
) -> None:
    harness.xai.image_ticks = 3_000_000_000  # $0.30, where the catalog estimates $0.02
    await harness.start()
    await start_story(harness, options={"model": "grok-imagine"})
    await start_story(harness, options={"model": "gpt-image-2"})  # no report: the estimate
    assert await usage_field(harness, "Estimated cost") == "$0.51"  # 0.30 + 0.211 (high)
