"""Stand-in art that visibly belongs to its scene: the scene's words drawn on a gradient, and a
real H.264 MP4 made from that picture (a slow zoom), so players and browsers accept both."""

from __future__ import annotations

import functools
import hashlib
import io
import textwrap
from fractions import Fraction

import av
from PIL import Image, ImageDraw, ImageFont

FILM_FPS = 12


def _colours(prompt: str, take: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Two colours chosen by the prompt and the take, so scenes and redraws look different."""
    digest = hashlib.sha256(f"{take}:{prompt}".encode()).digest()
    top = (40 + digest[0] % 120, 40 + digest[1] % 120, 90 + digest[2] % 150)
    bottom = (200 + digest[3] % 56, 120 + digest[4] % 120, 60 + digest[5] % 120)
    return top, bottom


def _gradient(size: tuple[int, int], prompt: str, take: int) -> Image.Image:
    top, bottom = _colours(prompt, take)
    mask = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


@functools.lru_cache(maxsize=64)  # benchmarks and repeated answers draw the same scene again
def scene_picture(prompt: str, size: tuple[int, int] = (512, 512), take: int = 0) -> bytes:
    """A PNG of the prompt's last paragraph (the scene text) written over a gradient; another
    `take` of the same prompt has other colours (what Regenerate shows)."""
    image = _gradient(size, prompt, take)
    draw = ImageDraw.Draw(image)
    words = prompt.strip().split("\n")[-1] or prompt
    font = ImageFont.load_default(size=max(12, size[0] // 22))
    lines = textwrap.wrap(words, width=28)[:9]
    margin = size[0] // 14
    draw.multiline_text(
        (margin, margin),
        "\n".join(lines),
        font=font,
        fill="white",
        spacing=size[0] // 60,
        stroke_width=2,
        stroke_fill="black",
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def scene_film(picture: bytes, *, seconds: float = 2.0, side: int = 256) -> bytes:
    """A real H.264 MP4 (yuv420p, `FILM_FPS`) slowly zooming into `picture`."""
    with Image.open(io.BytesIO(picture)) as opened:
        still = opened.convert("RGB").resize((side, side))
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FILM_FPS)
        stream.width = stream.height = side
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, FILM_FPS)
        frames = max(1, round(seconds * FILM_FPS))
        for index in range(frames):
            crop = index * side // (8 * frames)
            zoomed = still.crop((crop, crop, side - crop, side - crop)).resize((side, side))
            frame = av.VideoFrame.from_image(zoomed)
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()
