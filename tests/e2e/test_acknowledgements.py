"""Acknowledgements before work (bot/acknowledgements.py): a scene's provider calls wait until
no interaction waits for its acknowledgement, so in a burst the last member sees "thinking…"
before the first scene is written."""

from __future__ import annotations

import asyncio
import json

from tests.e2e.harness import Harness
from tests.e2e.helpers import start_story
from tests.fakes.openai_api import CHAT

CALLBACK = r"/interactions/\d+/[^/]+/callback"
HELD = 0.3  # seconds the first deferral waits at Discord


async def test_a_scene_is_written_only_once_the_other_interactions_are_acknowledged(
    harness: Harness,
) -> None:
    await harness.start()
    await start_story(harness)  # the provider SDKs connected, as in any later burst
    discord = harness.discord
    held = discord.slow("POST", CALLBACK, HELD)
    fox = await discord.slash("story", "start", options={"premise": "A fox"}, wait_ack=False)
    for _ in range(1000):  # until the fox's deferral reaches Discord (a fault notifies no one)
        if held.hits:
            break
        await asyncio.sleep(0.005)
    whale = await discord.slash("story", "start", options={"premise": "A whale"}, wait_ack=False)
    await whale.wait_for_final()
    await fox.wait_for_final()

    assert str(fox.id) in held.requests[0].path
    whale_acked, fox_acked = whale.callbacks[0].at, fox.callbacks[0].at
    assert whale_acked < fox_acked, "the whale's own deferral was not held"
    whale_text = next(
        r for r in harness.openai.requests_to(CHAT) if "A whale" in json.dumps(r.fields)
    )
    assert whale_text.at >= fox_acked, (
        f"the whale's scene text was asked for {fox_acked - whale_text.at:.3f} s before the fox "
        "was acknowledged"
    )
