"""Storage round trips per scene: every SQL statement the bot sends to SQLite for one
`/story start`, counted with a trace callback on its connection (not a timing: a count).

    python -m bench.statements

The bot is built in this process exactly as `python -m bot` builds it (settings from the
environment bench/rig.py prepares), connected to the loopback stand-ins; after one warm-up
story, SCENES stories are started one after the other and their statements counted. Prints the
statements of one scene and writes bench/results/statements.json.
"""

from __future__ import annotations

import asyncio
import collections
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import Figure, table, write_results
from bench.interactions import start_story
from bench.rig import Rig, rig
from bot.__main__ import load_configuration
from bot.app import StoryBot
from bot.discord_endpoints import point_discord_at
from bot.wiring import build_services
from tests.fakes.discord.fixtures import running

SCENES = 5


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def kind(sql: str) -> str:
    """The statement's verb and table, e.g. `UPDATE video_jobs`, for the summary."""
    words = re.sub(r"\s+", " ", sql).strip().split(" ")
    verb = words[0].upper()
    for marker in ("INTO", "FROM", "UPDATE"):
        upper = [w.upper() for w in words]
        if marker in upper[: 12 if marker != "UPDATE" else 1]:
            index = upper.index(marker)
            return f"{verb} {words[index + 1]}" if index + 1 < len(words) else verb
    return verb


async def scenes(bench: Rig) -> list[str]:
    """The statements of SCENES stories, each started after the previous one ended."""
    with environment(bench.env):
        settings, catalog, tiers = load_configuration()
    point_discord_at(settings.discord_api_base_url, settings.discord_gateway_url)
    services = await build_services(settings, catalog, tiers)
    statements: list[str] = []
    try:
        async with running(StoryBot(services, guild_ready_timeout=0.05), bench.discord):
            await (await start_story(bench, wait_ack=True)).wait_for_final(within=60)  # warm-up
            conn = services.storage.db._conn  # type: ignore[attr-defined]  # SQLite only
            await conn.set_trace_callback(statements.append)
            for _ in range(SCENES):
                await (await start_story(bench, wait_ack=True)).wait_for_final(within=60)
            await conn.set_trace_callback(None)
    finally:
        await services.close()
    return statements


async def run() -> None:
    with tempfile.TemporaryDirectory(prefix="storybot-bench-") as tmp:
        # Without the xAI key there is no video loop, whose ticks would be counted too.
        async with rig(Path(tmp) / "statements", without=("XAI",)) as bench:
            statements = await scenes(bench)
    kinds = collections.Counter(kind(s) for s in statements)
    per_scene = len(statements) / SCENES
    print("\n".join(f"{n / SCENES:5.1f}  {k}" for k, n in kinds.most_common()))
    figures = [
        Figure(
            "SQL statements per /story start", per_scene, "count",
            f"{len(statements)} over {SCENES} scenes, BEGIN/COMMIT included",
        ),
    ]  # fmt: skip
    print(table("\n== storage round trips ==", figures))
    extra = {"per_scene_by_kind": {k: n / SCENES for k, n in kinds.most_common()}}
    print(write_results("statements", figures, extra))


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
