"""`/story book` end to end (SPEC §5, §12): the real bot, the loopback Discord and providers,
the bot's own web server; guild isolation on the command and on the routes."""

from __future__ import annotations

import io
import re
import socket

import aiohttp
import av

from tests.e2e.harness import Harness
from tests.e2e.helpers import custom_id, refusal_text, start_story
from tests.fakes.discord import StoredMessage

WITHIN = 10.0
SECRET = "e2e-web-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _web(harness: Harness) -> str:
    """Turn the web server on (before start); returns its base URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    harness.env(WEB_BASE_URL=base, WEB_PORT=str(port), WEB_SECRET=SECRET)
    return base


async def _book(harness: Harness, **options: str) -> StoredMessage:
    ix = await harness.discord.slash("story", "book", options=options)
    message = await ix.wait_for_final(WITHIN)
    assert message is not None
    assert not ix.ephemeral, message.content
    return message


async def _animate(harness: Harness, scene: StoredMessage) -> None:
    ix = await harness.discord.click(scene, custom_id(scene, "animate"))
    await ix.wait_for_final()
    await harness.discord.until(lambda: "scene.mp4" in scene.filenames, WITHIN, "for the MP4")


def _attachment(message: StoredMessage, name: str) -> bytes:
    (data,) = [a.data for a in message.attachments if a.filename == name]
    return data


async def test_the_book_of_the_latest_story_attaches_the_page_and_says_how_to_make_a_film(
    harness: Harness,
) -> None:
    await harness.start()
    await start_story(harness, "An older tale")
    scene = await start_story(harness, "A fox finds a key")
    continued = await harness.discord.click(scene, custom_id(scene, "continue"))
    assert await continued.wait_for_final() is not None
    book = await _book(harness)
    assert book.filenames == ["storybook.html"]
    html = _attachment(book, "storybook.html").decode()
    assert "<title>A fox finds a key</title>" in html
    assert re.findall(r"<h2>Scene (\d+)</h2>", html) == ["1", "2"]
    assert len(re.findall(r'<img src="data:image/jpeg;base64,', html)) == 2
    assert "A fox finds a key" in book.content
    assert "Animate" in book.content  # no animated scene: how to make a film
    assert "http" not in book.content  # no web server, no link


async def test_the_film_of_the_animated_scenes_is_attached_as_one_playable_mp4(
    harness: Harness,
) -> None:
    harness.xai.draws_scenes = True  # real H.264 clips from the scene's picture
    await harness.start()
    first = await start_story(harness, "A fox finds a key")
    await _animate(harness, first)
    second_ix = await harness.discord.click(first, custom_id(first, "continue"))
    second = await second_ix.wait_for_final()
    assert second is not None
    await _animate(harness, second)
    book = await _book(harness)
    assert book.filenames == ["storybook.html", "storybook.mp4"]
    with av.open(io.BytesIO(_attachment(book, "storybook.mp4")), "r") as film:
        frames = sum(1 for _ in film.decode(video=0))
        assert film.duration is not None
        seconds = film.duration / av.time_base
    clip = _attachment(first, "scene.mp4")
    with av.open(io.BytesIO(clip), "r") as one:
        assert frames == 2 * sum(1 for _ in one.decode(video=0))
    assert seconds > 3
    assert "2 animated scenes" in book.content


async def test_the_story_option_lists_only_this_servers_stories(harness: Harness) -> None:
    await harness.start()
    discord = harness.discord
    await start_story(harness, "The lighthouse fox")
    other = discord.guilds[1]
    ix = await discord.slash("story", "start", options={"premise": "The secret fox"}, guild=other)
    assert await ix.wait_for_final() is not None
    here = await discord.autocomplete("story", "book", focused="story", value="fox")
    there = await discord.autocomplete("story", "book", focused="story", value="", guild=other)
    assert [c["name"] for c in here] == ["The lighthouse fox"]
    assert [c["name"] for c in there] == ["The secret fox"]
    # Naming the other server's story by its id is refused like a story that does not exist.
    foreign = await discord.slash("story", "book", options={"story": there[0]["value"]})
    missing = await discord.slash("story", "book", options={"story": "987654"})
    assert await refusal_text(foreign) == await refusal_text(missing)
    assert "no such story on this server" in await refusal_text(foreign)
    assert len(discord.messages_in()) == 1  # only the scene: no book, no leftover


async def test_without_a_story_in_the_channel_the_refusal_says_how_to_start_one(
    harness: Harness,
) -> None:
    await harness.start()
    ix = await harness.discord.slash("story", "book")
    assert "/story start" in await refusal_text(ix)


async def test_the_link_opens_the_page_on_the_bots_own_web_server_while_the_bot_runs(
    harness: Harness,
) -> None:
    base = _web(harness)
    await harness.start()
    await start_story(harness, "A fox finds a key")
    other = harness.discord.guilds[1]
    ix = await harness.discord.slash("story", "start", options={"premise": "Theirs"}, guild=other)
    assert await ix.wait_for_final() is not None
    book = await _book(harness)
    (link,) = re.findall(rf"{re.escape(base)}/book/\S+", book.content)
    assert link in _attachment(book, "storybook.html").decode()
    async with aiohttp.ClientSession() as http:
        async with http.get(link) as page:
            assert page.status == 200
            assert "A fox finds a key" in await page.text()
        # The other guild's story under this guild's signature: 404, like any tampering.
        guild, story, signature = link.rsplit("/", 3)[1:]
        theirs = f"{base}/book/{other.id}/{story}/{signature}"
        async with http.get(theirs) as refused:
            assert refused.status == 404
        await harness.stop()
        try:
            async with http.get(link) as after:
                raise AssertionError(f"the web server outlived the bot: {after.status}")
        except aiohttp.ClientConnectionError:
            pass  # stopped with the bot
    assert guild == str(harness.discord.guild.id)
