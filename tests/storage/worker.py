"""Storage work in a separate process, so tests can SIGKILL it at a chosen point.

    python -m tests.storage.worker <scenario> <data_dir> [int ...]

With DATABASE_URL set it works on that PostgreSQL database instead of DATA_DIR's SQLite.

A scenario that stops at a point prints one line ("READY ...") and then hangs until killed;
the others print "DONE ..." and exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from storage import (
    IllegalTransition,
    JobState,
    QuotaExceeded,
    Storage,
    UsageKind,
    VideoJob,
    utc_now,
)


def say(line: str) -> None:
    print(line, flush=True)


async def hang() -> None:
    await asyncio.Event().wait()


async def submit_and_hang(storage: Storage, args: list[int]) -> None:
    """Die between sending a video request and committing its id."""
    (job,) = await storage.jobs.claim_due(limit=1)
    await storage.jobs.begin_submit(job.id)
    say(f"READY {job.id}")  # the request would be on the wire now
    await hang()


async def claim_and_hang(storage: Storage, args: list[int]) -> None:
    """Die after claiming a queued job, before anything was sent."""
    (job,) = await storage.jobs.claim_due(limit=1)
    say(f"READY {job.id}")
    await hang()


async def download_and_hang(storage: Storage, args: list[int]) -> None:
    """Die in the middle of downloading a finished video."""
    (job,) = await storage.jobs.claim_due(limit=1)
    await storage.jobs.begin_download(job.id)
    temp = storage.media.video_temp_path(job.scene_id)
    temp.write_bytes(b"half an mp4")
    say(f"READY {job.id}")
    await hang()


async def hang_in_transaction(storage: Storage, args: list[int]) -> None:
    """Die holding the write lock with an uncommitted change."""
    async with storage.db.transaction() as tx:
        await tx.execute("INSERT INTO meta VALUES ('uncommitted', 'yes')")
        say("READY")
        await hang()


async def write_image_and_hang(storage: Storage, args: list[int]) -> None:
    """Die after writing the new image's bytes but before they replace the old file."""
    scene_id, size = args

    def stop_here(fd: object) -> None:
        say("READY")
        time.sleep(3600)  # frozen mid-write (in the writer thread) until the test kills us

    os.fsync = stop_here
    await storage.media.save_image(scene_id, b"N" * size)


async def append_scenes(storage: Storage, args: list[int]) -> None:
    story_id, count = args
    for _ in range(count):
        await storage.scenes.create(story_id=story_id, text="t", model_key="m", channel_id=1)
    say("DONE")


async def reserve(storage: Storage, args: list[int]) -> None:
    attempts, limit = args
    won = 0
    for _ in range(attempts):
        try:
            await storage.usage.reserve(
                guild_id=1, member_id=os.getpid(), kind=UsageKind.SCENE, model_key="m",
                cost_usd=0.01, guild_limit=limit, member_limit=None,
            )  # fmt: skip
            won += 1
        except QuotaExceeded:
            pass
    say(f"DONE {won}")


def say_sent(job_id: int) -> None:
    """The request is on the wire: one line in the log the test counts (the "provider")."""
    with Path(os.environ["PROVIDER_LOG"]).open("a") as log:
        log.write(f"{job_id}\n")


# Where `stop-at` stops: a job claimed (nothing sent), sent but its id not committed, waiting
# for the next poll, and half-way through its download.
STOP_STATES = ["queued", "submitting", "submitted", "downloading"]


async def stop_at(storage: Storage, args: list[int]) -> None:
    """Take one job to STOP_STATES[args[0]], holding its lease, then die there."""
    stop = STOP_STATES[args[0]]
    (job,) = await storage.jobs.claim_due(limit=1)
    if stop != "queued":
        await storage.jobs.begin_submit(job.id)
        say_sent(job.id)
    if stop in ("submitted", "downloading"):
        await storage.jobs.mark_submitted(job.id, f"req-{job.id}", utc_now())
        (job,) = [j for j in await storage.jobs.claim_due(limit=50) if j.id == job.id]
    if stop == "downloading":
        await storage.jobs.begin_download(job.id)
        storage.media.video_temp_path(job.scene_id).write_bytes(b"half an mp4")
    say(f"READY {job.id}")
    await hang()


async def work(storage: Storage, args: list[int]) -> None:
    """What the video loop does, against a provider that answers at once, until no job is
    left unfinished; a job another process holds is left to it."""
    while await _unfinished(storage):
        for job in await storage.jobs.claim_due(limit=2):
            with contextlib.suppress(IllegalTransition):  # LeaseLost: someone took it over
                await _advance(storage, job)
        await asyncio.sleep(0.05)
    say("DONE")


async def _advance(storage: Storage, job: VideoJob) -> None:
    if job.state is JobState.QUEUED:
        await storage.jobs.begin_submit(job.id)
        say_sent(job.id)
        await storage.jobs.mark_submitted(job.id, f"req-{job.id}", utc_now())
        return
    await storage.jobs.begin_download(job.id)
    await storage.media.save_video(job.scene_id, b"mp4 made by a worker")
    await storage.jobs.mark_done(job.id)
    if job.usage_id is not None:
        await storage.usage.settle(job.usage_id, succeeded=True)


async def _unfinished(storage: Storage) -> int:
    row = await storage.db.fetch_one(
        """SELECT COUNT(*) AS n FROM video_jobs
            WHERE state IN ('queued', 'submitting', 'submitted', 'downloading')"""
    )
    return int(row["n"]) if row is not None else 0


SCENARIOS: dict[str, Callable[[Storage, list[int]], Awaitable[None]]] = {
    "submit-and-hang": submit_and_hang,
    "claim-and-hang": claim_and_hang,
    "download-and-hang": download_and_hang,
    "hang-in-transaction": hang_in_transaction,
    "write-image-and-hang": write_image_and_hang,
    "append-scenes": append_scenes,
    "reserve": reserve,
    "stop-at": stop_at,
    "work": work,
}


async def main(scenario: str, data_dir: Path, args: list[int]) -> None:
    lease = timedelta(milliseconds=int(os.environ.get("JOB_LEASE_MS", "30000")))
    storage = await Storage.open(
        data_dir, database_url=os.environ.get("DATABASE_URL"), job_lease=lease
    )
    try:
        await SCENARIOS[scenario](storage, args)
    finally:
        await storage.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), [int(a) for a in sys.argv[3:]]))
