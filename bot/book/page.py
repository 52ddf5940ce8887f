"""The storybook page: one Jinja2 template, rendered either self-contained (pictures scaled down
and embedded as data URIs so the file fits an upload limit) or with the web server's signed URLs.

Pillow work is blocking: call `embedded_page` through `asyncio.to_thread`.
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:  # Jinja2 is imported on the first page rendered, not at start-up
    import jinja2

# (longest side, JPEG quality), best first: the first that fits the upload limit is used.
PICTURE_STEPS = ((1024, 85), (768, 80), (640, 75), (512, 72), (384, 68), (256, 62), (160, 55))


class PageTooLarge(Exception):
    """Even the smallest pictures do not fit the upload limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the page does not fit {limit} bytes")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class PageScene:
    """One scene as the template shows it; `picture`/`video` are URLs or data URIs."""

    number: int
    text: str
    model: str
    picture: str | None
    animated: bool
    video: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class SceneMedia:
    """One scene with its stored bytes, for the self-contained page."""

    number: int
    text: str
    model: str
    picture: bytes | None
    video: bytes | None


@dataclass(frozen=True, slots=True)
class EmbeddedPage:
    html: bytes
    picture_side: int  # longest side of the embedded pictures
    videos: int  # how many scene videos are embedded too


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    loader = jinja2.PackageLoader("bot.book", "templates")
    return jinja2.Environment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)


def render_page(
    title: str,
    scenes: Sequence[PageScene],
    *,
    link: str | None = None,
    film: str | None = None,
    film_attached: bool = False,
) -> str:
    """The page's HTML; `film` is the film's URL (the web page), `link` the web page's."""
    template = _environment().get_template("book.html.j2")
    return template.render(
        title=title,
        scenes=scenes,
        link=link,
        film=film,
        film_attached=film_attached,
        animated=any(scene.animated for scene in scenes),
    )


def _data_uri(mime_type: str, data: bytes) -> str:
    return f"data:{mime_type};base64,{base64.b64encode(data).decode()}"


def _scaled(picture: bytes, side: int, quality: int) -> tuple[str, int, int]:
    """A JPEG data URI of the picture, longest side at most `side` (never enlarged)."""
    with Image.open(io.BytesIO(picture)) as opened:
        image = opened.convert("RGB")
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return _data_uri("image/jpeg", out.getvalue()), image.width, image.height


def _with_pictures(scenes: Sequence[SceneMedia], side: int, quality: int) -> list[PageScene]:
    page = []
    for scene in scenes:
        src, width, height = (None, None, None)
        if scene.picture is not None:
            src, width, height = _scaled(scene.picture, side, quality)
        animated = scene.video is not None
        page.append(
            PageScene(scene.number, scene.text, scene.model, src, animated, None, width, height)
        )
    return page


def _size(html: str) -> int:
    return len(html.encode())


def embedded_page(
    title: str,
    scenes: Sequence[SceneMedia],
    limit: int,
    *,
    link: str | None = None,
    film_attached: bool = False,
) -> EmbeddedPage:
    """The self-contained page within `limit` bytes: the largest pictures that fit, then each
    scene's video embedded too while it still fits (the others point to the film)."""

    def render(page: Sequence[PageScene]) -> str:
        return render_page(title, page, link=link, film_attached=film_attached)

    for side, quality in PICTURE_STEPS:
        page = _with_pictures(scenes, side, quality)
        html = render(page)
        if _size(html) <= limit:
            break
    else:
        raise PageTooLarge(limit)
    embedded = 0
    for index, scene in enumerate(scenes):
        if scene.video is None:
            continue
        extra = 4 * (len(scene.video) + 2) // 3 + 64
        if _size(html) + extra > limit:
            continue
        trial = [*page]
        trial[index] = replace(page[index], video=_data_uri("video/mp4", scene.video))
        candidate = render(trial)
        if _size(candidate) <= limit:
            page, html, embedded = trial, candidate, embedded + 1
    return EmbeddedPage(html.encode(), side, embedded)
