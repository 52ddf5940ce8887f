"""What every fault in docs/RELIABILITY.md must leave behind, checked after the test."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from tests.e2e.harness import Harness
from tests.e2e.helpers import redrawing
from tests.fakes.discord.records import DEFERRED_MESSAGE

SETTLE = 10.0  # seconds the bot gets to finish answering once the test body is done


async def assert_invariants(
    harness: Harness, *, strict_quota: bool = False, deletes_stories: bool = False
) -> None:
    await _nothing_left_thinking(harness)
    await _nothing_left_redrawing(harness)
    _database_holds(harness, strict_quota, deletes_stories)


async def _nothing_left_redrawing(harness: Harness) -> None:
    """No scene message still says a Regenerate is drawing, its buttons disabled."""
    state = harness.discord.state

    def stuck() -> list[int]:
        return [m.id for m in state.messages.values() if not m.deleted and redrawing(m)]

    await harness.discord.until(lambda: not stuck(), SETTLE, "for every redraw to end")


async def _nothing_left_thinking(harness: Harness) -> None:
    """Every deferred interaction ended in a message; no "thinking…" placeholder is visible."""
    state = harness.discord.state
    # A token that died (15 minutes) cannot edit its placeholder; Discord itself retires it.
    dead = {ix.original_id for ix in state.interactions.values() if ix.expired}

    def open_deferrals() -> list[str]:
        loading = [
            f"message {m.id} still thinking"
            for m in state.messages.values()
            if m.loading and not m.deleted and m.id not in dead
        ]
        unanswered = [
            f"{ix} deferred but never answered"
            for ix in state.interactions.values()
            if ix.ack is not None
            and ix.ack.type == DEFERRED_MESSAGE
            and not ix.expired
            and not _answered(ix)
        ]
        return loading + unanswered

    await harness.discord.until(
        lambda: not open_deferrals(), SETTLE, "for every deferred interaction to be answered"
    )


def _answered(ix: object) -> bool:
    final = getattr(ix, "final", False)
    followups = getattr(ix, "followup_ids", [])
    return bool(final or followups)


def _database_holds(harness: Harness, strict_quota: bool, deletes_stories: bool) -> None:
    db = harness.data_dir / "storybot.db"
    if not db.exists():
        return
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        (check,) = conn.execute("PRAGMA integrity_check").fetchone()
        assert check == "ok", f"integrity_check: {check}"
        (fk,) = conn.execute("SELECT count(*) FROM pragma_foreign_key_check").fetchone()
        assert fk == 0, "foreign keys broken"
        _no_job_lost_or_doubled(conn, harness, deletes_stories)
        _no_failure_charged(conn, strict_quota)


def _no_job_lost_or_doubled(
    conn: sqlite3.Connection, harness: Harness, deletes_stories: bool
) -> None:
    """Every video the provider accepted belongs to exactly one job row (none submitted twice,
    none forgotten), but for the jobs of stories a member deleted."""
    rows = conn.execute(
        "SELECT provider_request_id FROM video_jobs WHERE provider_request_id IS NOT NULL"
    ).fetchall()
    stored = [r[0] for r in rows]
    assert len(stored) == len(set(stored)), f"a request id is held by two jobs: {stored}"
    accepted = set(harness.xai.jobs)
    if deletes_stories:
        assert set(stored) <= accepted, f"job rows {set(stored)} the provider never accepted"
    else:
        assert accepted == set(stored), f"provider jobs {accepted} vs job rows {set(stored)}"


def _no_failure_charged(conn: sqlite3.Connection, strict: bool) -> None:
    """Quota counts only what succeeded: pictures drawn, videos delivered or still under way.
    Deleting a story drops its scenes but not its (rightly charged) usage: hence `strict`."""
    (charged,) = conn.execute(
        "SELECT count(*) FROM usage WHERE kind IN ('scene', 'image') AND outcome = 'ok'"
    ).fetchone()
    (pending,) = conn.execute(
        "SELECT count(*) FROM usage WHERE kind IN ('scene', 'image') AND outcome = 'pending'"
    ).fetchone()
    (drawn,) = conn.execute("SELECT coalesce(sum(image_version), 0) FROM scenes").fetchone()
    assert pending == 0, f"{pending} picture reservation(s) never settled"
    assert charged >= drawn, f"{drawn} pictures drawn but only {charged} charged"
    if strict:
        assert charged == drawn, f"{charged} pictures charged, {drawn} drawn"
    (failed_charged,) = conn.execute(
        """SELECT count(*) FROM video_jobs JOIN usage ON usage.id = video_jobs.usage_id
           WHERE video_jobs.state = 'failed' AND usage.outcome = 'ok'"""
    ).fetchone()
    assert failed_charged == 0, f"{failed_charged} failed video(s) charged"
