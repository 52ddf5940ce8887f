"""The storybook web server's routes: signed links open their own story only; anything else,
another guild's story included, is the same 404."""

from __future__ import annotations

import io
import re

import av
from PIL import Image

from bot.book.links import Links
from storage import Storage, Story
from tests.bot.book.builders import GUILD, OTHER_GUILD, Site, told_story

TEXTS = ["The fox climbs the lighthouse.", "The sea sings back.", "The whale offers a ride."]


def _urls(html: str) -> list[str]:
    return re.findall(r'src="([^"]+)"', html)


async def test_the_signed_page_shows_full_size_pictures_and_playable_videos(
    storage: Storage, site: Site
) -> None:
    story = await told_story(storage, TEXTS, animated=(2,), side=1024)
    status, body, kind = await site.get(site.links.page(GUILD, story.id))
    assert (status, kind) == (200, "text/html")
    html = body.decode()
    assert all(text in html for text in TEXTS)
    pictures = [u for u in _urls(html) if "/picture/" in u]
    videos = [u for u in _urls(html) if "/video/" in u or "/film/" in u]
    assert len(pictures) == 3
    assert len(videos) == 2  # scene 2's video and the film
    for url in pictures:
        status, data, kind = await site.get(url)
        assert (status, kind) == (200, "image/png")
        assert Image.open(io.BytesIO(data)).size == (1024, 1024)  # full size
    for url in videos:
        status, data, kind = await site.get(url)
        assert (status, kind) == (200, "video/mp4")
        with av.open(io.BytesIO(data), "r") as container:
            assert container.streams.video[0].codec_context.name == "h264"


async def _not_found(site: Site, url: str) -> bytes:
    status, body, _ = await site.get(url)
    assert status == 404, url
    return body


async def test_tampered_or_foreign_links_all_answer_the_same_404(
    storage: Storage, site: Site
) -> None:
    mine = await told_story(storage, TEXTS, animated=(1,))
    theirs = await told_story(storage, TEXTS, guild_id=OTHER_GUILD)
    good = site.links.page(GUILD, mine.id)
    signature = good.rsplit("/", 1)[1]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    wrong_key = Links(site.links.base_url, "another-secret")
    base = site.links.base_url
    answers = {
        await _not_found(site, good.replace(signature, flipped)),
        await _not_found(site, f"{base}/book/{GUILD}/{theirs.id}/{signature}"),
        await _not_found(site, f"{base}/book/{OTHER_GUILD}/{mine.id}/{signature}"),
        # A valid signature over a story that is not in that guild (or does not exist).
        await _not_found(site, site.links.page(GUILD, theirs.id)),
        await _not_found(site, site.links.page(GUILD, 424242)),
        await _not_found(site, wrong_key.page(GUILD, mine.id)),
        await _not_found(site, f"{base}/book/{GUILD}/{mine.id}"),
        await _not_found(site, f"{base}/anything"),
    }
    assert len(answers) == 1, "every miss must look the same"


async def test_media_urls_are_signed_per_scene_and_kind(storage: Storage, site: Site) -> None:
    mine = await told_story(storage, TEXTS, animated=(1,))
    theirs = await told_story(storage, TEXTS, guild_id=OTHER_GUILD)
    my_scenes = [s.id for s in await storage.scenes.list_for_story(mine.id)]
    their_scene = (await storage.scenes.list_for_story(theirs.id))[0].id
    picture = site.links.media(GUILD, mine.id, my_scenes[0], "picture")
    assert (await site.get(picture))[0] == 200
    # The same signature does not open another scene, kind or story.
    await _not_found(site, picture.replace(f"/{my_scenes[0]}/", f"/{my_scenes[1]}/"))
    await _not_found(site, picture.replace("/picture/", "/video/"))
    # Signed correctly, but the scene is not in that story / the story not in that guild.
    await _not_found(site, site.links.media(GUILD, mine.id, their_scene, "picture"))
    await _not_found(site, site.links.media(GUILD, theirs.id, their_scene, "picture"))
    # Scene 2 has no video: its signed video URL is a 404 too.
    await _not_found(site, site.links.media(GUILD, mine.id, my_scenes[1], "video"))
    await _not_found(site, site.links.film(GUILD, theirs.id))


async def test_the_page_forbids_scripts_and_leaks_no_referrer(storage: Storage, site: Site) -> None:
    story: Story = await told_story(storage, TEXTS)
    async with site.http.get(site.links.page(GUILD, story.id)) as response:
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_videos_are_served_in_the_byte_ranges_players_ask_for(
    storage: Storage, site: Site
) -> None:
    story = await told_story(storage, TEXTS, animated=(1,))
    scene = (await storage.scenes.list_for_story(story.id))[0]
    url = site.links.media(GUILD, story.id, scene.id, "video")
    whole = await storage.media.read_video(scene.id)
    assert whole is not None
    size = len(whole)
    async with site.http.get(url) as response:
        assert response.status == 200
        assert response.headers["Accept-Ranges"] == "bytes"
    for asked, (start, end) in {
        "bytes=0-99": (0, 99),
        "bytes=100-": (100, size - 1),
        "bytes=-50": (size - 50, size - 1),
        f"bytes=10-{size * 2}": (10, size - 1),
    }.items():
        async with site.http.get(url, headers={"Range": asked}) as response:
            assert response.status == 206, asked
            assert response.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
            assert await response.read() == whole[start : end + 1]
    async with site.http.get(url, headers={"Range": f"bytes={size}-"}) as response:
        assert response.status == 416
        assert response.headers["Content-Range"] == f"bytes */{size}"
    async with site.http.get(url, headers={"Range": "pages=1-2"}) as response:
        assert response.status == 200  # not understood: the whole file
        assert await response.read() == whole
    film = site.links.film(GUILD, story.id)
    async with site.http.get(film, headers={"Range": "bytes=0-7"}) as response:
        assert response.status == 206
        assert (await response.read())[4:8] == b"ftyp"


async def test_ids_no_story_can_have_answer_the_same_404_not_a_server_error(
    storage: Storage, site: Site
) -> None:
    """Digits past Python's int() limit, or another script's digits, are a miss like any other."""
    story = await told_story(storage, TEXTS, animated=(1,))
    good = site.links.page(GUILD, story.id)
    signature = good.rsplit("/", 1)[1]
    base, huge = site.links.base_url, "9" * 5000
    arabic = str(GUILD).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    miss = await _not_found(site, f"{base}/anything")
    for url in (
        f"{base}/book/{huge}/{story.id}/{signature}",
        f"{base}/film/{GUILD}/{huge}/{signature}.mp4",
        f"{base}/media/{GUILD}/{story.id}/{huge}/picture/{signature}",
        good.replace(f"/{GUILD}/", f"/{arabic}/"),
    ):
        assert await _not_found(site, url) == miss
