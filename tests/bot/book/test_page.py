"""The self-contained page: every told scene, pictures scaled to fit the upload limit."""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image

from bot.book.page import PageTooLarge, SceneMedia, embedded_page
from tests.fakes.scene_art import scene_film, scene_picture

TEXTS = [f"Scene {n}: the fox <b>sails</b> & sings to the whale." for n in range(1, 6)]


def _scenes(side: int = 1024, videos: tuple[int, ...] = ()) -> list[SceneMedia]:
    return [
        SceneMedia(
            n,
            text,
            "GPT Image 2",
            scene_picture(text, (side, side)),
            scene_film(scene_picture(text), seconds=1) if n in videos else None,
        )
        for n, text in enumerate(TEXTS, start=1)
    ]


def _pictures(html: str) -> list[Image.Image]:
    found = re.findall(r'<img src="data:image/jpeg;base64,([^"]+)"', html)
    return [Image.open(io.BytesIO(base64.b64decode(data))) for data in found]


def test_the_page_shows_every_scene_in_order_with_number_text_and_model() -> None:
    page = embedded_page("The Fox", _scenes(), 10 * 1024 * 1024)
    html = page.html.decode()
    assert "<title>The Fox</title>" in html
    numbers = [int(n) for n in re.findall(r"<h2>Scene (\d+)</h2>", html)]
    assert numbers == [1, 2, 3, 4, 5]
    assert html.count("Drawn with GPT Image 2") == 5
    # Scene text is escaped, never markup: a story cannot inject HTML into the page.
    assert "the fox &lt;b&gt;sails&lt;/b&gt; &amp; sings" in html
    assert "<b>sails</b>" not in html
    assert 'name="viewport"' in html  # readable on a phone


def test_pictures_are_scaled_down_until_the_page_fits_the_upload_limit() -> None:
    roomy = embedded_page("The Fox", _scenes(), 10 * 1024 * 1024)
    tight_limit = 60_000
    tight = embedded_page("The Fox", _scenes(), tight_limit)
    assert len(tight.html) <= tight_limit
    assert tight.picture_side < roomy.picture_side
    pictures = _pictures(tight.html.decode())
    assert len(pictures) == 5
    assert all(max(p.size) <= tight.picture_side for p in pictures)
    for picture in pictures:
        picture.load()  # every embedded picture decodes


def test_small_pictures_are_never_enlarged() -> None:
    page = embedded_page("The Fox", _scenes(side=200), 10 * 1024 * 1024)
    assert {p.size for p in _pictures(page.html.decode())} == {(200, 200)}


def test_scene_videos_are_embedded_while_they_fit_and_the_others_point_to_the_film() -> None:
    scenes = _scenes(side=256, videos=(2, 4))
    roomy = embedded_page("The Fox", scenes, 10 * 1024 * 1024, film_attached=True)
    assert roomy.videos == 2
    assert roomy.html.decode().count('preload="metadata" src="data:video/mp4;base64,') == 2
    fourth = len(base64.b64encode(scenes[3].video or b""))
    limit = len(roomy.html) - fourth // 2  # room for scene 2's video, not for scene 4's too
    tight = embedded_page("The Fox", scenes, limit, film_attached=True)
    assert len(tight.html) <= limit
    assert tight.videos == 1
    assert "its video is in the film" in tight.html.decode()
    assert "storybook.mp4" in tight.html.decode()


def test_a_story_without_videos_says_how_to_make_a_film() -> None:
    html = embedded_page("The Fox", _scenes(side=128), 10 * 1024 * 1024).html.decode()
    assert "press Animate under a scene" in html


def test_a_page_that_cannot_fit_even_with_the_smallest_pictures_is_refused() -> None:
    with pytest.raises(PageTooLarge):
        embedded_page("The Fox", _scenes(), 4_000)


def test_a_video_left_out_of_the_page_is_promised_only_where_the_member_can_get_it() -> None:
    scenes = _scenes(side=128, videos=(2,))
    tight = len(embedded_page("The Fox", scenes, 10 * 1024 * 1024, film_attached=False).html) - 1
    alone = embedded_page("The Fox", scenes, tight).html.decode()
    assert "its video did not fit this page" in alone
    assert "in the film" not in alone  # the film was too large to come with the page
    linked = embedded_page("The Fox", scenes, tight, link="https://b.example/book/1/2/s")
    assert "its video plays at the link above" in linked.html.decode()
