"""A button pressed right after its scene is posted: Discord shows the message before the bot
has stored the message's id, so for a moment the scene has none. On a loaded machine (or a
slow database) a member's press lands in that moment; it must work as any other press."""

from __future__ import annotations

import asyncio

from tests.e2e.harness import Harness
from tests.e2e.helpers import custom_id, start_story

WITHIN = 30.0


async def test_animate_pressed_before_the_message_id_is_stored_still_makes_the_video(
    harness: Harness,
) -> None:
    bot = await harness.start()
    scene = await start_story(harness)
    scenes = bot.services.storage.scenes
    for _ in range(int(WITHIN / 0.01)):  # the bot stores the id just after the post
        stored = await scenes.get(1)
        if stored is not None and stored.message_id == scene.id:
            break
        await asyncio.sleep(0.01)
    # The moment between the post and the bot storing its id, held open.
    await bot.services.storage.db.execute("UPDATE scenes SET message_id = NULL WHERE id = 1")
    click = await harness.discord.click(scene, custom_id(scene, "animate"))
    answer = await click.wait_for_final()
    assert answer is scene, f"refused instead of animating: {answer!r}"
    await harness.discord.until(lambda: "scene.mp4" in scene.filenames, WITHIN, "for the MP4")
    assert scene.filenames == ["scene.png", "scene.mp4"]
