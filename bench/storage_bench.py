"""Storage benchmark (not a test): scene inserts, job claims, and claiming due jobs when
10,000 finished and 1,000 pending jobs are in the table.

    python -m bench.storage_bench        # or: python bench/storage_bench.py

Prints a table and the claim statement's EXPLAIN QUERY PLAN, and writes
bench/results/storage.json with the machine it ran on.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sqlite3
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite

from storage import Storage
from storage.clock import to_db_time
from storage.media import atomic_write

RESULTS = Path(__file__).resolve().parent / "results" / "storage.json"
SCENE_INSERTS = 2_000
CLAIM_JOBS = 2_000
CLAIM_BATCH = 10
FINISHED_JOBS = 10_000
PENDING_JOBS = 1_000
QUERY_REPEATS = 200
DUE_SQL = """SELECT id FROM video_jobs {hint}
    WHERE state IN ('queued', 'submitted') AND next_poll_at <= ?
    ORDER BY next_poll_at LIMIT 10"""


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured line of the table."""

    name: str
    value: float
    unit: str
    detail: str


async def new_story_id(storage: Storage) -> int:
    story = await storage.stories.create(
        guild_id=1, channel_id=2, author_id=3, premise="bench", title="Bench",
        model_key="gpt-image-1-mini", video_mode=True,
    )  # fmt: skip
    return story.id


async def bench_scene_inserts(storage: Storage) -> Figure:
    """Each insert is its own committed transaction, as in the bot."""
    story_id = await new_story_id(storage)
    started = time.perf_counter()
    for _ in range(SCENE_INSERTS):
        await storage.scenes.create(story_id=story_id, text="t", model_key="m", channel_id=2)
    elapsed = time.perf_counter() - started
    return Figure("scene insert", SCENE_INSERTS / elapsed, "ops/s", f"{SCENE_INSERTS} commits")


async def bench_job_claims(storage: Storage) -> Figure:
    """Claim queued jobs CLAIM_BATCH at a time until none is left."""
    story_id = await new_story_id(storage)
    for _ in range(CLAIM_JOBS):
        scene = await storage.scenes.create(
            story_id=story_id, text="t", model_key="m", channel_id=2
        )
        await storage.jobs.create(
            scene_id=scene.id, guild_id=1, channel_id=2, message_id=None, image_version=1
        )
    claimed, calls, started = 0, 0, time.perf_counter()
    while batch := await storage.jobs.claim_due(limit=CLAIM_BATCH):
        claimed, calls = claimed + len(batch), calls + 1
    elapsed = time.perf_counter() - started
    detail = f"{claimed} jobs in {calls} claims of {CLAIM_BATCH}"
    return Figure("job claim", claimed / elapsed, "jobs/s", detail)


async def seed_history(storage: Storage, now: datetime) -> None:
    """PENDING_JOBS scenes with one unfinished job each, and FINISHED_JOBS done/failed jobs."""
    story_id = await new_story_id(storage)
    past, stamp = to_db_time(now - timedelta(minutes=5)), to_db_time(now - timedelta(hours=1))
    async with storage.db.transaction() as tx:
        first = await tx.fetch_returning("SELECT COALESCE(MAX(id), 0) + 1 AS id FROM scenes")
        scene_ids = list(range(first["id"], first["id"] + PENDING_JOBS))
        await tx.execute_many(
            """INSERT INTO scenes (id, story_id, number, text, model_key, channel_id, created_at)
                VALUES (?, ?, ?, 't', 'm', 2, ?)""",
            [(sid, story_id, n + 1, stamp) for n, sid in enumerate(scene_ids)],
        )
        rows = [
            (scene_ids[n % PENDING_JOBS], "done" if n % 2 else "failed", "req", "r", stamp)
            for n in range(FINISHED_JOBS)
        ] + [
            (sid, "submitted" if n % 2 else "queued", "req" if n % 2 else None, None, past)
            for n, sid in enumerate(scene_ids)
        ]
        await tx.execute_many(
            """INSERT INTO video_jobs (scene_id, guild_id, channel_id, image_version, state,
                provider_request_id, reason, reported, created_at, updated_at, next_poll_at)
                VALUES (?1, 1, 2, 1, ?2, ?3, ?4, 1, ?5, ?5, ?5)""",
            rows,
        )


async def time_query(storage: Storage, sql: str, now: str) -> float:
    """Median milliseconds of a read-only due-jobs query."""
    samples = []
    for _ in range(QUERY_REPEATS):
        started = time.perf_counter()
        await storage.db.fetch_all(sql, (now,))
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def bench_claim_with_history(storage: Storage) -> tuple[list[Figure], list[str]]:
    """claim_due latency over a table that is mostly finished history."""
    now = datetime.now(UTC)
    await seed_history(storage, now)
    stamp = to_db_time(now)
    # Read-only first, while all PENDING_JOBS are still due.
    indexed = await time_query(storage, DUE_SQL.format(hint=""), stamp)
    scanned = await time_query(storage, DUE_SQL.format(hint="NOT INDEXED"), stamp)
    samples, claimed = [], 0
    while claimed < PENDING_JOBS:
        started = time.perf_counter()
        batch = await storage.jobs.claim_due(now=now, limit=CLAIM_BATCH)
        samples.append((time.perf_counter() - started) * 1000)
        claimed += len(batch)
        if not batch:
            raise RuntimeError(f"only {claimed} of {PENDING_JOBS} pending jobs were claimable")
    table = f"{FINISHED_JOBS} done/failed + {PENDING_JOBS} queued/submitted"
    figures = [
        Figure("claim_due(limit=10) median", statistics.median(samples), "ms", table),
        Figure("claim_due(limit=10) p95", percentile(samples, 95), "ms", table),
        Figure("due query via index, median", indexed, "ms", "SELECT only, same table"),
        Figure("due query forced scan, median", scanned, "ms", "NOT INDEXED, for contrast"),
    ]
    return figures, await storage.jobs.claim_plan()


def percentile(samples: list[float], pct: int) -> float:
    return statistics.quantiles(samples, n=100)[pct - 1]


def machine() -> dict[str, object]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "aiosqlite": aiosqlite.__version__,
    }


async def run(data_dir: Path) -> tuple[list[Figure], list[str]]:
    storage = await Storage.open(data_dir)
    try:
        figures = [await bench_scene_inserts(storage), await bench_job_claims(storage)]
        history, plan = await bench_claim_with_history(storage)
    finally:
        await storage.close()
    return figures + history, plan


def report(figures: list[Figure], plan: list[str]) -> str:
    width = max(len(f.name) for f in figures)
    lines = [f"{'measure':<{width}}  {'value':>10}  unit    detail"]
    lines += [f"{f.name:<{width}}  {f.value:>10.2f}  {f.unit:<6}  {f.detail}" for f in figures]
    lines += ["", "EXPLAIN QUERY PLAN claim_due:", *(f"  {step}" for step in plan)]
    return "\n".join(lines)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="storybot-bench-") as tmp:
        figures, plan = asyncio.run(run(Path(tmp)))
    print(report(figures, plan))
    print(f"\nmachine: {machine()}")
    if not any("USING INDEX video_jobs_due" in step for step in plan):
        raise SystemExit("claim_due does not use the video_jobs_due index")
    payload = {
        "machine": machine(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "figures": [asdict(f) | {"value": round(f.value, 3)} for f in figures],
        "claim_due_query_plan": plan,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(RESULTS, json.dumps(payload, indent=2).encode() + b"\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
