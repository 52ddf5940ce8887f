from tests.e2e.harness import Harness


async def test_story_start_posts_a_scene_with_picture_and_three_buttons(harness: Harness) -> None:
    await harness.start()
    ix = await harness.discord.slash("story", "start", options={"premise": "A fox finds a key"})
    assert ix.deferred
    message = await ix.wait_for_final()
    assert message is not None
    assert message.filenames == ["scene.png"]
    assert [b["label"] for b in message.buttons()] == ["Regenerate", "Animate", "Continue"]
    embed = message.embeds[0]
    assert (embed["title"], embed["author"]["name"]) == ("A fox finds a key", "Scene 1")
    assert embed["description"] == harness.openai.scene_text
    assert embed["footer"]["text"] == "Drawn with GPT Image 2", "premium's first model"
