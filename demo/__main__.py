"""`python -m demo`: start the Discord and provider stand-ins on 127.0.0.1, build the real bot
from the environment exactly as `python -m bot` does, play start → regenerate → animate →
continue → animate → /story book, and print what a member would see and where the files are.
No token, no keys, a few seconds. The stand-ins draw each scene's words on a gradient and
animate it into a real H.264 MP4, so every file the demo leaves opens in an ordinary viewer."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path

import aiohttp

from bot.__main__ import ConfigError, load_configuration
from bot.app import StoryBot
from bot.discord_endpoints import point_discord_at
from bot.instance_lock import DataDirInUse, hold_data_dir
from bot.logs import configure_logging
from bot.wiring import build_services
from tests.e2e.helpers import redrawing
from tests.fakes.discord import DiscordStandin, InteractionRecord, StoredMessage, Upload
from tests.fakes.discord.fixtures import running
from tests.fakes.gemini_api import GeminiStandin
from tests.fakes.openai_api import OpenAIStandin
from tests.fakes.scene_art import scene_picture
from tests.fakes.xai_api import EDITS, XAIStandin

LATENCY = 0.2  # seconds per provider answer: looks real, stays fast
STEP_TIMEOUT = 15.0  # seconds any one step may take before the demo gives up
PREMISE = "A lighthouse keeper's fox befriends a singing whale"
SCENES = (
    "Every night the fox climbed the lighthouse stairs, and one night the sea began to sing back.",
    "At dawn the whale surfaced by the rocks and offered the fox a ride toward the horizon.",
)


class DemoFailed(Exception):
    """A step did not produce what a member should see; the message says which."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(
    discord: DiscordStandin, openai: str, xai: str, gemini: str, data: Path, web_port: int
) -> None:
    os.environ.update(
        DISCORD_TOKEN=discord.token,
        DISCORD_API_BASE_URL=discord.api_base_url,
        DISCORD_GATEWAY_URL=discord.gateway_url,
        OPENAI_API_KEY="sk-demo-not-a-real-key",
        OPENAI_BASE_URL=openai,
        XAI_API_KEY="xai-demo-not-a-real-key",
        XAI_BASE_URL=xai,
        GEMINI_API_KEY="gemini-demo-not-a-real-key",
        GEMINI_BASE_URL=gemini,
        DATA_DIR=str(data),
        DEFAULT_TIER="premium",
        VIDEO_POLL_SECONDS="0.2",
        LOG_LEVEL="WARNING",
        WEB_BASE_URL=f"http://127.0.0.1:{web_port}",
        WEB_PORT=str(web_port),
        WEB_SECRET="demo-secret-not-for-production",  # noqa: S106 - a loopback demo only
    )
    for name in ("DEV_GUILD_ID", "MODELS_FILE", "TIERS_FILE", "TEXT_MODEL"):
        os.environ.pop(name, None)
    if Path(".env").exists():
        print("note: ./.env is read too; a DEV_GUILD_ID, MODELS_FILE or TIERS_FILE there applies")


def _show(message: StoredMessage) -> None:
    """The scene message as a member sees it."""
    if not message.embeds:
        raise DemoFailed(f"expected a scene, the bot said: {message.content!r}")
    embed = message.embeds[0]
    print(f"    ┌ {embed.get('author', {}).get('name', '?')} · {embed.get('title', '')}")
    print(f"    │ {embed.get('description', '')}")
    for item in embed.get("fields", []):
        print(f"    │ {item['name']}: {item['value']}")
    print(f"    │ {embed.get('footer', {}).get('text', '')}")
    print(f"    │ attachments: {', '.join(message.filenames) or '(none)'}")
    print(f"    └ buttons: {' | '.join(str(b.get('label')) for b in message.buttons())}")


def _scene_id(message: StoredMessage) -> int:
    """The scene row id, from a button's custom_id (`scene:{action}:{id}`)."""
    for custom_id in message.custom_ids():
        if custom_id.startswith("scene:"):
            return int(custom_id.rsplit(":", 1)[1])
    raise DemoFailed("the scene message has no buttons")


def _existing(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DemoFailed(f"{what} was not written to {path}")
    return path


def _sent(xai: XAIStandin, what: str) -> None:
    """Show that the latest image request carried the member's photo (SPEC §6)."""
    edits = xai.requests_to(EDITS)
    if not edits or not edits[-1].images:
        raise DemoFailed("the reference photo never reached the image provider")
    count = len(edits[-1].images)
    print(f"    xAI got POST /v1/images/edits with {count} input image(s): {what}")


async def _step(title: str, action: Awaitable[StoredMessage | None]) -> StoredMessage:
    print(f"→ {title}", flush=True)
    began = time.monotonic()
    try:
        async with asyncio.timeout(STEP_TIMEOUT):
            message = await action
    except (TimeoutError, AssertionError) as exc:  # the stand-in's waits raise AssertionError
        detail = f" ({exc})" if str(exc) else ""
        raise DemoFailed(f"{title}: no answer within {STEP_TIMEOUT:g} s{detail}") from exc
    if message is None:
        raise DemoFailed(f"{title}: the interaction ended without a message")
    print(f"  ✓ answered in {time.monotonic() - began:.1f} s")
    return message


async def _play(
    discord: DiscordStandin, xai: XAIStandin, openai: OpenAIStandin, data: Path
) -> None:
    openai.scene_text = SCENES[0]
    xai.draws_scenes = openai.draws_scenes = True  # pictures of the scene's words, real MP4s
    fox = scene_picture("my fox", (256, 256))
    photo = {"reference": Upload(fox, "my-fox.png", "image/png")}
    options = {"premise": PREMISE, "model": "grok-imagine"}
    title = f'/story start premise:"{PREMISE}" reference:my-fox.png model:grok-imagine'
    scene = await _step(
        title, _final(discord.slash("story", "start", options=options, attachments=photo))
    )
    _show(scene)
    scene_id = _scene_id(scene)
    image = _existing(data / "images" / f"{scene_id}.png", "the scene's picture")
    print(f"    picture on disk: {image}")
    _sent(xai, "the reference photo")
    before = scene.attachments[0].data

    def press(action: str) -> Awaitable[StoredMessage | None]:
        return _final(discord.click(scene, f"scene:{action}:{scene_id}"))

    # The stand-in draws the scene again in other colours (another take).
    await _step("click Regenerate (the message says it is redrawing)", press("regen"))
    edited = await _step("wait for the new picture in that message", _redrawn(discord, scene))
    if edited.id != scene.id or edited.attachments[0].data == before:
        raise DemoFailed("Regenerate did not replace the picture in the same message")
    print(f"    the picture in message {scene.id} was replaced; {image} rewritten")

    _show(await _step("click Animate", press("animate")))
    await _step("wait for the video loop to attach the MP4 to that message", _video(discord, scene))
    _show(scene)
    print(f"    video on disk: {_existing(data / 'videos' / f'{scene_id}.mp4', 'the video')}")

    openai.scene_text = SCENES[1]
    follow = await _step("click Continue", press("continue"))
    _show(follow)
    _sent(xai, "the reference photo and scene 1's picture")
    second = _existing(data / "images" / f"{_scene_id(follow)}.png", "scene 2's picture")
    print(f"    picture on disk: {second}")
    await _step(
        "click Animate on scene 2",
        _final(discord.click(follow, f"scene:animate:{_scene_id(follow)}")),
    )
    await _step("wait for scene 2's MP4", _video(discord, follow))
    await _book(discord, data)


async def _book(discord: DiscordStandin, data: Path) -> None:
    """`/story book`, and the page and film it attached, saved where the demo says."""
    book = await _step("/story book", _final(discord.slash("story", "book")))
    for line in book.content.splitlines():
        print(f"    │ {line}")
    print(f"    └ attachments: {', '.join(book.filenames) or '(none)'}")
    folder = data / "storybook"
    await asyncio.to_thread(folder.mkdir, exist_ok=True)
    for attachment in book.attachments:
        path = folder / attachment.filename
        await asyncio.to_thread(path.write_bytes, attachment.data)
        print(f"    {attachment.filename} as the member got it: {path.resolve()}")
    if "storybook.mp4" not in book.filenames:
        raise DemoFailed("/story book attached no film")
    links = [word for word in book.content.split() if word.startswith("http")]
    if links:
        async with aiohttp.ClientSession() as http, http.get(links[0]) as page:
            size = len(await page.read())
        print(f"    the link answers HTTP {page.status} ({size:,} bytes) while the bot runs")


async def _final(sent: Awaitable[InteractionRecord]) -> StoredMessage | None:
    """The message that ended an interaction the member sent."""
    return await (await sent).wait_for_final(STEP_TIMEOUT)


async def _redrawn(discord: DiscordStandin, scene: StoredMessage) -> StoredMessage:
    await discord.until(lambda: not redrawing(scene), STEP_TIMEOUT, "for the new picture")
    return scene


async def _video(discord: DiscordStandin, scene: StoredMessage) -> StoredMessage:
    await discord.until(lambda: "scene.mp4" in scene.filenames, STEP_TIMEOUT, "for the MP4")
    return scene


async def run_demo(data: Path) -> None:
    """Everything the demo starts is stopped when this returns or raises."""
    async with contextlib.AsyncExitStack() as stack:
        discord = await stack.enter_async_context(DiscordStandin())
        openai = await stack.enter_async_context(OpenAIStandin(latency=LATENCY))
        xai = await stack.enter_async_context(XAIStandin(latency=LATENCY))
        gemini = await stack.enter_async_context(GeminiStandin(latency=LATENCY))
        _environment(discord, openai.base_url, xai.base_url, gemini.base_url, data, _free_port())
        print(
            f"Discord stand-in {discord.api_base_url}; OpenAI, xAI, Gemini stand-ins on 127.0.0.1"
        )
        try:
            settings, catalog, tiers = load_configuration()  # what `python -m bot` does
        except ConfigError as exc:
            raise DemoFailed(f"configuration: {exc}") from exc
        configure_logging(settings.log_level, settings.secrets())
        point_discord_at(settings.discord_api_base_url, settings.discord_gateway_url)
        services = await build_services(settings, catalog, tiers)
        stack.push_async_callback(services.close)
        began = time.monotonic()
        await stack.enter_async_context(
            running(StoryBot(services, guild_ready_timeout=0.05), discord)
        )
        print(f"StoryBot connected in {time.monotonic() - began:.1f} s (tier premium)\n")
        await _play(discord, xai, openai, data)
        if discord.errors:
            raise DemoFailed(f"the Discord stand-in failed: {discord.errors!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="DATA_DIR to use (default: a new temp dir)")
    args = parser.parse_args(argv)
    data: Path = args.data_dir or Path(tempfile.mkdtemp(prefix="storybot-demo-"))
    print(f"DATA_DIR {data.resolve()} ({'given' if args.data_dir else 'fresh temp dir, kept'})")
    began = time.monotonic()
    try:
        with hold_data_dir(data):
            asyncio.run(run_demo(data))
    except (DemoFailed, DataDirInUse) as exc:
        print(f"\n✗ demo failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"\nDone in {time.monotonic() - began:.1f} s. Files (storybook/ holds what the member got):"
    )
    kinds = (".png", ".mp4", ".html")
    for path in sorted(p for p in data.rglob("*") if p.is_file() and p.suffix in kinds):
        print(f"  {path.resolve()}  ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
