"""Schema versions: an empty database and every earlier version end at the newest schema."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite
import pytest

from storage import SchemaTooNew, UsageKind
from storage.db import open_database
from storage.migrations import LATEST_VERSION, MIGRATIONS, Migration, migrate
from storage.store import Storage
from tests.storage.builders import START

# Rows a database at each version could hold, written with that version's own columns.
SEED_AT_VERSION: dict[int, list[str]] = {
    1: [
        "INSERT INTO guild_settings VALUES (1001, 'premium', 'gemini', 1)",
        "INSERT INTO meta VALUES ('command_tree_hash', 'abc123')",
        """INSERT INTO stories VALUES (7, 1001, 2002, 3003, 'a fox', 'Fox', 'gemini', 1,
            '2026-05-01T11:00:00.000000Z')""",
        "INSERT INTO reference_photos VALUES (7, 0, '0.png', 'image/png', 3)",
        """INSERT INTO scenes (id, story_id, number, text, model_key, image_version, status,
            channel_id, created_at)
            VALUES (70, 7, 1, 'Once', 'gemini', 1, 'ready', 2002, '2026-05-01T11:00:00.000000Z')""",
        """INSERT INTO usage (guild_id, member_id, kind, model_key, cost_usd, day, created_at)
            VALUES (1001, 3003, 'scene', 'gemini', 0.04, '2026-05-01',
            '2026-05-01T11:00:00.000000Z')""",
    ],
    2: [
        """INSERT INTO usage (guild_id, member_id, kind, model_key, cost_usd, day, created_at,
            outcome) VALUES (1001, 3003, 'scene', 'gemini', 0.04, '2026-05-01',
            '2026-05-01T11:30:00.000000Z', 'failed')""",
    ],
    3: [
        """INSERT INTO video_jobs (id, scene_id, guild_id, channel_id, image_version, state,
            provider_request_id, created_at, updated_at, submitted_at, next_poll_at)
            VALUES (5, 70, 1001, 2002, 1, 'submitted', 'req-1', '2026-05-01T11:00:00.000000Z',
            '2026-05-01T11:00:00.000000Z', '2026-05-01T11:00:00.000000Z',
            '2026-05-01T11:00:05.000000Z')""",
    ],
    4: [
        "UPDATE scenes SET told_number = 1 WHERE id = 70",  # as version 4 numbers a drawn scene
        """INSERT INTO scenes (id, story_id, number, text, model_key, status, channel_id,
            created_at) VALUES (71, 7, 2, 'Never drawn', 'gemini', 'failed', 2002,
            '2026-05-01T11:10:00.000000Z')""",
    ],
    5: ["INSERT INTO media VALUES ('image', 70, '', X'89504E47')"],
    6: [
        """UPDATE video_jobs SET lease_owner = 'host:1:ab12cd34',
            lease_until = '2026-05-01T11:00:30.000000Z' WHERE id = 5""",
    ],
    7: [
        """INSERT INTO video_jobs (id, scene_id, guild_id, channel_id, image_version, state,
            reason, provider_reason, reported, created_at, updated_at, next_poll_at)
            VALUES (6, 70, 1001, 2002, 0, 'failed', 'declined', 'no dragons', 1,
            '2026-05-01T10:00:00.000000Z', '2026-05-01T10:00:00.000000Z',
            '2026-05-01T10:00:00.000000Z')""",
    ],
}


async def build_database_at(path: Path, version: int) -> None:
    """A database file as StoryBot at `version` left it, with rows in it."""
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await migrate(conn, upto=version) == version
        for seeded_version in range(1, version + 1):
            for statement in SEED_AT_VERSION[seeded_version]:
                await conn.execute(statement)


async def schema_of(path: Path) -> list[tuple[str, str, str | None]]:
    async with aiosqlite.connect(path) as conn:
        rows = await conn.execute_fetchall(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return [(row[0], row[1], row[2]) for row in rows]


async def user_version(path: Path) -> int:
    async with aiosqlite.connect(path) as conn, conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


def test_migrations_are_numbered_one_by_one_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert len(MIGRATIONS) == LATEST_VERSION
    assert set(SEED_AT_VERSION) == set(range(1, LATEST_VERSION + 1)), "seed every version"


async def test_an_empty_database_migrates_to_the_newest_version(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "new.db")
    await db.close()
    assert await user_version(tmp_path / "new.db") == LATEST_VERSION


@pytest.mark.parametrize("version", range(1, LATEST_VERSION))
async def test_every_earlier_version_migrates_to_the_same_schema_as_a_new_database(
    tmp_path: Path, version: int
) -> None:
    old, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    await build_database_at(old, version)
    for path in (old, fresh):
        await (await open_database(path)).close()
    assert await user_version(old) == LATEST_VERSION
    assert await schema_of(old) == await schema_of(fresh)


@pytest.mark.parametrize("version", range(1, LATEST_VERSION + 1))
async def test_rows_written_at_an_earlier_version_survive_migration(
    tmp_path: Path, version: int
) -> None:
    await build_database_at(tmp_path / "storybot.db", version)
    storage = await Storage.open(tmp_path)
    try:
        story = await storage.stories.get(7)
        assert story is not None
        assert (story.premise, story.video_mode) == ("a fox", True)
        scenes = await storage.scenes.list_for_story(7)
        assert [s.number for s in scenes][:1] == [1]
        assert scenes[0].told_number == 1, "a drawn scene keeps the number members saw"
        assert all(s.told_number is None for s in scenes[1:]), "a failed scene takes none"
        assert [r.file_name for r in await storage.stories.references(7)] == ["0.png"]
        assert (await storage.guilds.get(1001)).tier == "premium"
        assert await storage.meta.get("command_tree_hash") == "abc123"
        # Version 1 only ever wrote successes, so its rows must still count after migration
        # 2 added outcomes; the failed row seeded at version 2 must not.
        assert await storage.usage.count_today(1001, UsageKind.SCENE, now=START) == 1
    finally:
        await storage.close()


async def test_a_database_from_a_newer_storybot_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(SchemaTooNew):
        await open_database(path)
    assert await user_version(path) == LATEST_VERSION + 1
    assert await schema_of(path) == []


async def test_a_failing_migration_leaves_the_previous_version_intact(tmp_path: Path) -> None:
    broken = (
        MIGRATIONS[0],
        Migration(2, "half broken", ("CREATE TABLE extra (x)", "CREATE TABLE nonsense (")),
    )
    async with aiosqlite.connect(tmp_path / "x.db", isolation_level=None) as conn:
        with pytest.raises(aiosqlite.OperationalError):
            await migrate(conn, broken)
        names = await conn.execute_fetchall("SELECT name FROM sqlite_master WHERE name = 'extra'")
    assert list(names) == []
    assert await user_version(tmp_path / "x.db") == 1


async def test_two_processes_starting_at_once_migrate_once(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    first, second = await asyncio.gather(open_database(path), open_database(path))
    await first.close()
    await second.close()
    assert await user_version(path) == LATEST_VERSION
