"""SQLite itself out of space while the bot runs (docs/RELIABILITY.md "Process faults").

`PRAGMA max_page_count` caps the database at its current size, and a scratch table takes up
every free byte of its pages, so the next write that needs a new page fails with SQLITE_FULL
("database or disk is full"), exactly as a full disk fails the WAL growing. The `invariants`
fixture then checks nothing was left thinking or charged and the database is whole."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from storage.db import Database
from tests.e2e.harness import Harness
from tests.e2e.helpers import (
    SCENES_USED,
    error_after_deferral,
    image_calls,
    no_public_messages,
    provider_calls,
    refusal_text,
    start_story,
    usage_field,
)

STRICT_QUOTA = True  # no story is deleted here: pictures charged == pictures drawn

# Two stories with premises this long fill the stories table's only page, so a third needs
# a new page: a write the capped database cannot take.
LONG_PREMISE = ("A fox finds a key under the old lighthouse. " * 40)[:1450]
UNCAPPED = 1_073_741_823  # SQLite's default max_page_count


async def _fill_the_database(harness: Harness) -> None:
    assert harness.bot is not None
    db = harness.bot.services.storage.db
    row = await db.fetch_one("PRAGMA page_count")
    assert row is not None
    await db.execute("CREATE TABLE disk_filler (x BLOB)")
    await db.execute(f"PRAGMA max_page_count = {row[0] + 1}")
    for size in (4000, 1000, 200, 50, 10, 1):  # every free page, then every free byte
        with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
            await _insert_until_full(db, size)


async def _insert_until_full(db: Database, size: int) -> None:
    for _ in range(100_000):  # bounded: the cap is a few pages away
        await db.execute("INSERT INTO disk_filler VALUES (zeroblob(?))", (size,))


async def _make_room(harness: Harness) -> None:
    assert harness.bot is not None
    db = harness.bot.services.storage.db
    await db.execute(f"PRAGMA max_page_count = {UNCAPPED}")
    await db.execute("DROP TABLE disk_filler")


async def test_a_full_database_ends_in_an_ephemeral_error_uncharged_and_recovers(
    harness: Harness,
) -> None:
    await harness.start()
    await start_story(harness, LONG_PREMISE)
    await start_story(harness, LONG_PREMISE)
    await _fill_the_database(harness)
    drawn = image_calls(harness)
    ix = await harness.discord.slash("story", "start", options={"premise": LONG_PREMISE})
    text = await error_after_deferral(harness, ix)  # ephemeral; the placeholder removed
    assert "incident" in text
    assert len(harness.discord.messages_in()) == 2, "nothing public for the failed story"
    assert image_calls(harness) == drawn, "nothing drawn for a story that could not be saved"
    assert (await usage_field(harness, SCENES_USED)).startswith("2 of"), "not charged"
    await _make_room(harness)  # space again: the bot works on without a restart
    assert (await start_story(harness, LONG_PREMISE)).filenames == ["scene.png"]
    assert (await usage_field(harness, SCENES_USED)).startswith("3 of")


async def test_a_database_full_before_the_deferral_is_the_ephemeral_response_itself(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await harness.start()

    async def full(**_: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(bot.services.storage.usage, "reserve", full)
    ix = await harness.discord.slash("story", "start", options={"premise": "A fox"})
    text = await refusal_text(ix)
    assert "Something went wrong on our side" in text
    assert provider_calls(harness) == 0
    assert no_public_messages(harness)


async def test_a_read_only_database_mid_run_ends_in_errors_and_recovers(harness: Harness) -> None:
    """`PRAGMA query_only` makes every write fail as a read-only file does (SQLITE_READONLY)."""
    bot = await harness.start()
    scene = await start_story(harness)
    storage = bot.services.storage
    for _ in range(500):  # the bot links the scene to its message right after the edit
        linked = await storage.scenes.get(1)
        if linked is not None and linked.message_id is not None:
            break
        await asyncio.sleep(0.01)
    db = storage.db
    await db.execute("PRAGMA query_only = ON")
    ix = await harness.discord.slash("story", "start", options={"premise": "A second fox"})
    assert "Something went wrong on our side" in await refusal_text(ix)
    click = await harness.discord.click(scene, "scene:animate:1")
    assert "Something went wrong on our side" in await refusal_text(click)
    assert provider_calls(harness) == 2, "only the first story's text and picture"
    await db.execute("PRAGMA query_only = OFF")
    assert (await start_story(harness, premise="A third fox")).filenames == ["scene.png"]
