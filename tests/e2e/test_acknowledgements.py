"""Acknowledgements before work (bot/acknowledgements.py): a scene's provider calls wait until
no interaction waits for its acknowledgement, so in a burst the last member sees "thinking…"
before the first scene is written."""

from __future__ import annotations

import asyncio
import json

from tests.e2e.harness import Harness
from tests.e2e.helpers import start_story
from tests.fakes.discord import Fault
from tests.fakes.openai_api import CHAT

CALLBACK = r"/interactions/\d+/[^/]+/callback"


async def reached(fault: Fault) -> None:
    """Until a request matched `fault` (a fault wakes no one)."""
    for _ in range(1000):
        if fault.hits:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("no deferral reached the Discord stand-in within 5 s")


async def test_a_scene_is_written_only_once_a_later_interaction_is_acknowledged_too(
    harness: Harness,
) -> None:
    await harness.start()
    await start_story(harness)  # the provider SDKs connected, as in any later burst
    discord = harness.discord
    otter_held = discord.slow("POST", CALLBACK, 0.1)
    otter = await discord.slash("story", "start", options={"premise": "An otter"}, wait_ack=False)
    await reached(otter_held)
    # The whale arrives while the otter's deferral is under way, and its own takes longer.
    whale_held = discord.slow("POST", CALLBACK, 0.25)
    whale = await discord.slash("story", "start", options={"premise": "A whale"}, wait_ack=False)
    await otter.wait_for_final()
    await whale.wait_for_final()

    assert str(whale.id) in whale_held.requests[0].path
    otter_acked, whale_acked = otter.callbacks[0].at, whale.callbacks[0].at
    assert otter_acked < whale_acked
    otter_text = next(
        r for r in harness.openai.requests_to(CHAT) if "Premise: An otter" in json.dumps(r.fields)
    )
    assert otter_text.at >= whale_acked, (
        f"the otter's scene text was asked for {whale_acked - otter_text.at:.3f} s before the "
        "whale, which came in meanwhile, was acknowledged"
    )
