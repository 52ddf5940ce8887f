"""Storybook benchmark (not a test): `/story book` of a 10-scene story whose every scene is
animated, on a 10 MiB server: the page's and the film's sizes and how long each takes.

    python -m bench.book_bench

Two kinds of pictures: the stand-in's (words on a gradient, compress well) and noisy ones (as
hard to compress as a picture gets). Videos are real H.264 clips, 720x720, 8 s at 12 fps.
Writes bench/results/book.json.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
import time
from pathlib import Path

from PIL import Image

from bench.common import Figure, table, write_results
from bot.book.service import StorybookService
from providers.models_file import load_catalog
from storage import Storage
from tests.bot.book.builders import animate, told_story
from tests.fakes.scene_art import scene_film, scene_picture

SCENES = 10
LIMIT = 10 * 1024 * 1024
SIDE = 1024
TEXT = "Scene {}: the fox and the whale sail on toward the northern lights."
TEXTS = [TEXT.format(n) for n in range(1, SCENES + 1)]


def _noisy(side: int, seed: int) -> bytes:
    image = Image.effect_noise((side, side), 60 + seed).convert("RGB")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def _story(storage: Storage, noisy: bool) -> tuple[int, int]:
    """A 10-scene story, every scene animated; returns (story id, total stored picture bytes)."""
    story = await told_story(storage, TEXTS, side=SIDE)
    total = 0
    for number, scene in enumerate(await storage.scenes.list_for_story(story.id)):
        picture = _noisy(SIDE, number) if noisy else scene_picture(scene.text, (SIDE, SIDE))
        await storage.media.save_image(scene.id, picture)
        total += len(picture)
        clip = await asyncio.to_thread(scene_film, picture, seconds=8, side=720)
        await animate(storage, scene.id, clip)
    return story.id, total


async def _measure(noisy: bool) -> list[Figure]:
    kind = "noisy pictures" if noisy else "stand-in pictures"
    with tempfile.TemporaryDirectory() as folder:
        storage = await Storage.open(Path(folder))
        try:
            story_id, stored = await _story(storage, noisy)
            books = StorybookService(storage, load_catalog(None))
            story = await storage.stories.get(story_id)
            assert story is not None
            started = time.perf_counter()
            book = await books.make(story, LIMIT)
            elapsed = time.perf_counter() - started
        finally:
            await storage.close()
    assert book.film is not None
    detail = f"{kind}, {SCENES} scenes, stored pictures {stored / 2**20:.1f} MiB"
    return [
        Figure(f"page ({kind})", len(book.page.html) / 2**20, "MiB", f"{detail}; limit 10 MiB"),
        Figure(f"page picture side ({kind})", book.page.picture_side, "px", "longest side"),
        Figure(f"page videos embedded ({kind})", book.page.videos, "videos", f"of {SCENES}"),
        Figure(
            f"film ({kind})",
            len(book.film.mp4) / 2**20,
            "MiB",
            f"{book.film.seconds:.0f} s, attached: {book.film_fits}",
        ),
        Figure(f"make the book ({kind})", elapsed, "s", "read, scale, render, remux, keep"),
    ]


async def run() -> None:
    figures = await _measure(noisy=False) + await _measure(noisy=True)
    print(table("Storybook: a 10-scene story, every scene animated, 10 MiB server", figures))
    print(f"written: {write_results('book', figures, {})}")


if __name__ == "__main__":
    asyncio.run(run())
