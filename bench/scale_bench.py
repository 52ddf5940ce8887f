"""Scale-out benchmark (SPEC §11, not a test): scenes/s and video jobs/s with 1, 2 and 4
processes on one PostgreSQL, which this benchmark starts like the tests do (tests/postgres.py).

    python -m bench.scale_bench [processes ...]      # default: 1 2 4

Each process is a separate Python (its own event loop, its own pool and DATA_DIR) doing the
storage work of the bot at full speed, with no Discord or provider latency in between, so the
figures are the ceiling the shared database sets:
- a **scene**: the quota hold (one SERIALIZABLE statement), the scene row, its 100 KB picture
  into the database, the image recorded, the hold settled;
- a **video job**: claimed under a lease, `submitting`, `submitted`, claimed again for a poll
  that says done, `downloading`, its 1 MB MP4 into the database, `done`.
Every process runs for the same wall-clock window; the sum of what they finished, divided by
the window, is the figure.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Figure, scale, table, write_results
from storage import Storage, UsageKind, utc_now
from tests.postgres import PostgresServer, server_binaries, start_server

PROCESSES = (1, 2, 4)
WINDOW = 8.0  # seconds every process works
JOBS_PER_PROCESS = 2000  # more than one process finishes in the window
PICTURE = os.urandom(100_000)
MP4 = os.urandom(1_000_000)
GUILD = 1


async def scenes(storage: Storage, until: float) -> int:
    story = await storage.stories.create(
        guild_id=GUILD, channel_id=1, author_id=os.getpid(), premise="bench", title="Bench",
        model_key="m", video_mode=False,
    )  # fmt: skip
    done = 0
    while time.time() < until:
        hold = await storage.usage.reserve(
            guild_id=GUILD, member_id=os.getpid(), kind=UsageKind.SCENE, model_key="m",
            cost_usd=0.01, guild_limit=10**9, member_limit=None,
        )  # fmt: skip
        scene = await storage.scenes.create(
            story_id=story.id, text="t", model_key="m", channel_id=1
        )
        await storage.media.save_image(scene.id, PICTURE)
        await storage.scenes.record_image(scene.id, "m")
        await storage.usage.settle(hold.id, succeeded=True)
        done += 1
    return done


async def jobs(storage: Storage, until: float) -> int:
    done = 0
    while time.time() < until:
        for job in await storage.jobs.claim_due(limit=5):
            await storage.jobs.begin_submit(job.id)
            await storage.jobs.mark_submitted(job.id, f"req-{job.id}", utc_now())
            await storage.jobs.claim(job.id)  # its first poll says done at once
            await storage.jobs.begin_download(job.id)
            await storage.media.save_video(job.scene_id, MP4)
            await storage.jobs.mark_done(job.id)
            done += 1
    return done


async def seed_jobs(url: str, count: int) -> None:
    storage = await Storage.open(Path(tempfile.mkdtemp(prefix="bench-seed-")), database_url=url)
    try:
        story = await storage.stories.create(
            guild_id=GUILD, channel_id=1, author_id=1, premise="bench", title="Bench",
            model_key="m", video_mode=True,
        )  # fmt: skip
        for _ in range(count):
            scene = await storage.scenes.create(
                story_id=story.id, text="t", model_key="m", channel_id=1
            )
            await storage.jobs.create(
                scene_id=scene.id, guild_id=GUILD, channel_id=1, message_id=None, image_version=1
            )
    finally:
        await storage.close()


async def worker(kind: str, url: str, start: float, window: float) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    storage = await Storage.open(data_dir, database_url=url)
    try:
        await asyncio.sleep(max(0.0, start - time.time()))
        work = scenes if kind == "scenes" else jobs
        print(await work(storage, start + window), flush=True)
    finally:
        await storage.close()


async def measure(server: PostgresServer, kind: str, processes: int, window: float) -> float:
    schema = await server.create_schema()
    url = server.url(schema)
    try:
        if kind == "jobs":
            await seed_jobs(url, int(JOBS_PER_PROCESS * processes * scale()))
        start = time.time() + 3.0  # every process connected and migrated before the window
        argv = ["-m", "bench.scale_bench", "--worker", kind, url, str(start), str(window)]
        children = [
            await asyncio.create_subprocess_exec(
                sys.executable, *argv, stdout=asyncio.subprocess.PIPE
            )
            for _ in range(processes)
        ]
        outputs = await asyncio.gather(*(child.communicate() for child in children))
        return sum(int(out.decode().strip()) for out, _ in outputs) / window
    finally:
        await server.drop_schema(schema)


async def run(counts: list[int]) -> list[Figure]:
    bin_dir = server_binaries()
    if bin_dir is None:
        raise SystemExit("PostgreSQL server binaries not found: install the Debian package")
    server = start_server(bin_dir)
    window = WINDOW * scale()
    figures = []
    try:
        for processes in counts:
            for kind, unit in (("scenes", "scenes/s"), ("jobs", "jobs/s")):
                rate = await measure(server, kind, processes, window)
                name = f"{kind} with {processes} process{'es' if processes > 1 else ''}"
                figures.append(Figure(name, rate, unit, f"{window:.0f} s window"))
    finally:
        server.stop()
    return figures


def main(counts: list[int]) -> None:
    figures = asyncio.run(run(counts))
    print(table("Scale-out on one PostgreSQL (storage work only)", figures))
    path = write_results("scale", figures, {"picture_bytes": len(PICTURE), "mp4_bytes": len(MP4)})
    print(f"results: {path}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        kind, url, start, window = sys.argv[2:6]
        asyncio.run(worker(kind, url, float(start), float(window)))
    else:
        main([int(arg) for arg in sys.argv[1:]] or list(PROCESSES))
