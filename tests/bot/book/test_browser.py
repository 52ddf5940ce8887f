"""The storybook in a real browser (headless Chromium over DevTools): the served page and the
attached self-contained page load without a console error, every picture decodes, every video
element has a playable source, nothing overflows a phone's width; screenshots are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.book.page import PageScene, render_page
from bot.book.service import StorybookService
from storage import Storage
from tests.bot.book.builders import GUILD, Site, told_story
from tests.browser import chromium

TEXTS = [
    "Every night the fox climbed the lighthouse stairs.",
    "One night the sea began to sing back.",
    "At dawn the whale surfaced by the rocks.",
    "It offered the fox a ride toward the horizon.",
    "They passed islands of sleeping seals.",
    "A storm rose; the whale dived and the fox held on.",
    "Under the sea, lanterns of jellyfish lit the way.",
    "They surfaced beside an iceberg shaped like a castle.",
    "The northern lights sang the whale's song back to them.",
    "At last the fox came home, salt in its fur, with a story to tell.",
]
ANIMATED = (2, 3, 7)  # a ten-scene story, three scenes animated

# Waits for every picture to decode and every video to decode its first frame (or fail).
CHECKS = """(async () => {
  const pictures = await Promise.all([...document.images].map(async (img) => {
    try { await img.decode(); return {src: img.src.slice(0, 60), ok: img.naturalWidth > 0}; }
    catch (e) { return {src: img.src.slice(0, 60), ok: false}; }
  }));
  const videos = await Promise.all([...document.querySelectorAll('video')].map((v) =>
    new Promise((resolve) => {
      const done = (ok) => resolve({src: (v.currentSrc || v.src).slice(0, 60), ok,
        width: v.videoWidth, state: v.readyState, error: v.error && v.error.code});
      v.addEventListener('loadeddata', () => done(true), {once: true});
      v.addEventListener('error', () => done(false), {once: true});
      setTimeout(() => done(v.readyState >= 2), 20000);
      v.preload = 'auto';
      v.load();
    })));
  const overflow = document.documentElement.scrollWidth - window.innerWidth;
  return {pictures, videos, overflow};
})()"""


def _assert_page_works(
    result: dict[str, Any], errors: list[str], pictures: int, videos: int
) -> None:
    assert errors == [], errors
    assert len(result["pictures"]) == pictures
    assert all(p["ok"] for p in result["pictures"]), result["pictures"]
    assert len(result["videos"]) == videos
    assert all(v["ok"] and v["width"] > 0 for v in result["videos"]), result["videos"]
    assert result["overflow"] <= 0, "the page is wider than a phone's screen"


async def test_the_served_page_works_in_a_real_browser(
    storage: Storage, site: Site, tmp_path: Path
) -> None:
    story = await told_story(storage, TEXTS, animated=ANIMATED, side=1024)
    async with chromium(tmp_path) as browser:
        page = await browser.open(site.links.page(GUILD, story.id))
        result = await page.evaluate(CHECKS)
        shot = await page.screenshot(tmp_path / "storybook-served.png")
    _assert_page_works(result, page.errors, len(TEXTS), len(ANIMATED) + 1)  # + the film
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


async def test_the_attached_page_works_in_a_real_browser_from_a_file(
    storage: Storage, books: StorybookService, tmp_path: Path
) -> None:
    story = await told_story(storage, TEXTS, animated=ANIMATED)
    book = await books.make(story, 10 * 1024 * 1024)
    assert book.page.videos == len(ANIMATED)
    html = tmp_path / "storybook.html"
    html.write_bytes(book.page.html)
    async with chromium(tmp_path) as browser:
        page = await browser.open(html.as_uri())
        result = await page.evaluate(CHECKS)
        shot = await page.screenshot(tmp_path / "storybook-attached.png")
    _assert_page_works(result, page.errors, len(TEXTS), len(ANIMATED))
    assert shot.stat().st_size > 10_000
    assert book.film is not None
    print(f"screenshot: {shot}; page {len(book.page.html):,} B, film {len(book.film.mp4):,} B")


async def test_the_browser_checks_catch_a_broken_picture_and_an_unplayable_video(
    tmp_path: Path,
) -> None:
    broken = render_page(
        "Broken",
        [PageScene(1, "text", "GPT Image 2", "data:image/png;base64,iVBORw0K", True, "nope.mp4")],
    )
    html = tmp_path / "broken.html"
    html.write_text(broken)
    async with chromium(tmp_path) as browser:
        page = await browser.open(html.as_uri())
        result = await page.evaluate(CHECKS)
    assert [p["ok"] for p in result["pictures"]] == [False]
    assert [v["ok"] for v in result["videos"]] == [False]
    assert page.errors, "a missing video file must show up as a load error"
