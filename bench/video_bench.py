"""Video-loop and memory benchmarks (not tests): one tick with 10, 100 and 1,000 pending jobs.

    python -m bench.video_bench [jobs ...]      # default: 10 100 1000

Jobs are seeded through Storage before the bot starts, `submitted` with a request id the xAI
stand-in knows and answers `pending` forever, first due a few seconds after start-up. The bot
(`python -m bot`, its own process) then polls them every VIDEO_POLL_SECONDS. A tick is seen
from outside as a burst of poll requests at the stand-in; CPU is read from /proc/<pid>/stat
around the first burst (all jobs due, nothing else running), autocomplete latency during the
later bursts. With 1,000 jobs, 50 stories are then started at once to measure memory.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from bench.bot_bench import fire
from bench.common import Figure, percentile, scale, table, write_results
from bench.interactions import AutocompleteLoad, autocomplete, wait_all
from bench.rig import Rig, Sampler, rig, rss_mb
from storage import Storage, utc_now
from tests.fakes.xai_api import POLL
from tests.fakes.xai_wire import VideoJob, VideoOutcome

JOBS = (10, 100, 1000)
POLL_SECONDS = 5.0  # the default VIDEO_POLL_SECONDS
POLL_LATENCY = 0.1  # seconds the stand-in takes to answer one status poll
FIRST_DUE = 4.0  # seconds after seeding: start-up is over before the first tick
GAP = 1.0  # seconds without a poll that end a burst (a tick)
MARGIN = 0.3  # seconds around a burst counted into its CPU (claim before, writes after)
STORIES = 50


async def seed(bench: Rig, count: int) -> None:
    """`count` scenes, each with a submitted job the stand-in will answer pending forever."""
    storage = await Storage.open(bench.data_dir)
    guild, channel = bench.discord.guild.id, bench.discord.channel.id
    due = utc_now() + timedelta(seconds=FIRST_DUE)
    try:
        story = await storage.stories.create(
            guild_id=guild, channel_id=channel, author_id=1, premise="bench", title="Bench",
            model_key="grok-imagine", video_mode=True,
        )  # fmt: skip
        for _ in range(count):
            scene = await storage.scenes.create(
                story_id=story.id, text="t", model_key="grok-imagine", channel_id=channel
            )
            job = await storage.jobs.create(
                scene_id=scene.id, guild_id=guild, channel_id=channel, message_id=None,
                image_version=1,
            )  # fmt: skip
            request_id = str(uuid.uuid4())
            bench.xai.jobs[request_id] = VideoJob(request_id, VideoOutcome("never"), {})
            await storage.jobs.claim(job.id)
            await storage.jobs.begin_submit(job.id)
            await storage.jobs.mark_submitted(job.id, request_id, due)
    finally:
        await storage.close()


def bursts(bench: Rig) -> list[list[float]]:
    """Poll arrival times grouped into ticks (a silence of GAP seconds ends one)."""
    groups: list[list[float]] = []
    for at in sorted(r.at for r in bench.xai.requests_to(POLL)):
        if groups and at - groups[-1][-1] < GAP:
            groups[-1].append(at)
        else:
            groups.append([at])
    return groups


async def closed_bursts(bench: Rig, count: int, within: float = 60.0) -> list[list[float]]:
    """Wait until `count` ticks are over (no poll for GAP seconds after the last one)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        seen = bursts(bench)
        done = [b for b in seen if b[-1] < time.monotonic() - GAP]
        if len(done) >= count:
            return done
        await asyncio.sleep(0.1)
    raise TimeoutError(f"saw {len(bursts(bench))} poll bursts, waited for {count}")


def window(burst: list[float]) -> tuple[float, float]:
    return burst[0] - MARGIN, burst[-1] + POLL_LATENCY + MARGIN


def during(records: list, windows: list[tuple[float, float]], inside: bool) -> list[float]:
    picked = []
    for record in records:
        hit = any(start <= record.created_at <= end for start, end in windows)
        if hit == inside and record.callbacks:
            picked.append((record.callbacks[0].at - record.created_at) * 1000)
    return picked


async def bench_jobs(
    tmp: Path, count: int, *, memory: bool
) -> tuple[list[Figure], dict[str, object]]:
    env = {"VIDEO_POLL_SECONDS": str(POLL_SECONDS), "VIDEO_TIMEOUT_SECONDS": "3600"}
    async with rig(tmp / f"video{count}", **env) as bench:
        bench.xai.route_latency[POLL] = POLL_LATENCY
        await seed(bench, count)
        await bench.start_bot()
        await autocomplete(bench)
        sampler = Sampler(bench.pid)
        sampler.start()
        first = (await closed_bursts(bench, 1))[0]
        load = AutocompleteLoad(bench)
        load.start()
        ticks = await closed_bursts(bench, 3)
        records = await load.stop()
        await sampler.stop()
        start, end = window(first)
        cpu = sampler.cpu_between(start, end)
        windows = [window(b) for b in ticks[1:]]
        in_tick, between = during(records, windows, True), during(records, windows, False)
        extra = {"requests_per_tick": [len(b) for b in ticks], "autocompletes": len(records)}
        if memory:
            extra |= await memory_under_load(bench)
    detail = f"{count} submitted jobs, poll answers after {POLL_LATENCY * 1000:.0f} ms"
    big = count >= 1000
    p99 = percentile(in_tick, 99)
    figures = [
        Figure(f"{count} jobs: first tick wall", end - start - 2 * MARGIN, "s", detail),
        Figure(f"{count} jobs: polls in first tick", len(first), "requests", detail),
        Figure(
            f"{count} jobs: CPU of first tick", cpu, "s", f"/proc, ±{2 * MARGIN:.1f} s margin",
            "≤ 1 s" if big else "", (cpu <= 1.0) if big else None,
        ),
        Figure(
            f"{count} jobs: autocomplete p99 during ticks", p99, "ms",
            f"{len(in_tick)} samples at 20/s, p50 {percentile(in_tick, 50):.1f} ms",
            "≤ 50 ms" if big else "", (p99 <= 50) if big else None,
        ),
        Figure(
            f"{count} jobs: autocomplete p99 between ticks", percentile(between, 99), "ms",
            f"{len(between)} samples",
        ),
    ]  # fmt: skip
    return figures, extra


async def memory_under_load(bench: Rig) -> dict[str, object]:
    """RSS with the pending jobs alone, then peak while STORIES stories are in flight."""
    idle = rss_mb(bench.pid)
    sampler = Sampler(bench.pid, period=0.05)
    sampler.start()
    records = await fire(bench, STORIES, None)
    stuck = await wait_all(bench, records, within=120)
    await sampler.stop()
    return {"rss_pending_mb": idle, "rss_peak_stories_mb": sampler.peak_rss(), "stuck": stuck}


async def run(jobs: tuple[int, ...]) -> None:
    figures: list[Figure] = []
    extras: dict[str, object] = {}
    counts = sorted({max(10, round(n * scale())) for n in jobs})
    with tempfile.TemporaryDirectory(prefix="storybot-bench-") as tmp:
        for count in counts:
            measured, extra = await bench_jobs(Path(tmp), count, memory=count == counts[-1])
            figures += measured
            extras[str(count)] = extra
    print(table("\n== video loop ==", figures))
    print(f"requests per tick: { {n: e['requests_per_tick'] for n, e in extras.items()} }")
    print(write_results("video_loop", figures, {"poll_seconds": POLL_SECONDS, "runs": extras}))
    memory = extras[str(counts[-1])]
    rss = [
        Figure(f"RSS, {counts[-1]} pending jobs", float(memory["rss_pending_mb"]), "MiB"),  # type: ignore[arg-type]
        Figure(
            f"RSS peak, {counts[-1]} pending jobs + {STORIES} stories in flight",
            float(memory["rss_peak_stories_mb"]), "MiB", f"{memory['stuck']} unfinished",  # type: ignore[arg-type]
            "≤ 200 MB", float(memory["rss_peak_stories_mb"]) <= 200 / 1.048576,  # type: ignore[arg-type]
        ),
    ]  # fmt: skip
    print(table("\n== memory ==", rss))
    print(write_results("memory", rss, {}))


def main() -> None:
    jobs = tuple(int(arg) for arg in sys.argv[1:]) or JOBS
    asyncio.run(run(jobs))


if __name__ == "__main__":
    main()
