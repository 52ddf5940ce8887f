"""Video-loop and memory benchmark (not a test): 1,000 pending jobs polled every second.

    python -m bench.video_bench [jobs]      # default: 1000

Jobs are seeded through Storage before the bot starts, `submitted` with a request id the xAI
stand-in knows and answers `pending` forever after POLL_LATENCY, all due a few seconds after
start-up (as after a restart with that many videos in the making). The bot (`python -m bot`,
its own process, VIDEO_POLL_SECONDS=1) then polls them for MEASURE seconds from its first poll,
while a member types into autocomplete at 20/s. Reported against issue 16's targets: the
autocomplete p99, the worst gap between two polls of one job (every job must be polled within
each 10 s window), the bot's RSS; and what the polling costs (CPU per poll, polls per second).
Then 50 stories are started at once on top, for the peak RSS and their CPU per scene.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bench.bot_bench import cpu_per_scene, fire
from bench.common import Figure, median, percentile, scale, table, write_results
from bench.interactions import AutocompleteLoad, autocomplete, wait_all
from bench.rig import CpuMeter, Rig, Sampler, cpu_seconds, rig
from storage import Storage, utc_now
from tests.fakes.xai_api import POLL
from tests.fakes.xai_wire import VideoJob, VideoOutcome

JOBS = 1000
POLL_SECONDS = 1.0  # VIDEO_POLL_SECONDS: every job is due every second at first
POLL_LATENCY = 0.05  # seconds the stand-in takes to answer one status poll
FIRST_DUE = 4.0  # seconds after seeding: start-up is over before the first poll
MEASURE = 60.0  # seconds of polling measured, from the first poll on
WINDOW = 10.0  # every job must be polled within each window of this length
AUTOCOMPLETE_TARGET = 10.0  # ms, p99
RSS_TARGET = 100.0  # MB
STORIES = 50
MB_PER_MIB = 1.048576


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


def polls(bench: Rig) -> list[tuple[float, str]]:
    """(arrival, request id) of every status poll so far."""
    return [(r.at, r.path.rsplit("/", 1)[-1]) for r in bench.xai.requests_to(POLL)]


async def first_poll(bench: Rig, within: float = 120.0) -> float:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        seen = bench.xai.requests_to(POLL)
        if seen:
            return seen[0].at
        await asyncio.sleep(0.05)
    raise TimeoutError("the bot polled no video job")


def gaps(
    arrivals: list[tuple[float, str]], jobs: list[str], start: float, end: float
) -> tuple[list[float], int, int]:
    """Per job, the longest time without a poll in [start, end] (its edges count as polls);
    how many (job, WINDOW) pairs had no poll at all; how many windows were judged."""
    times: dict[str, list[float]] = defaultdict(list)
    for at, job in arrivals:
        if start <= at <= end:
            times[job].append(at)
    windows = int((end - start) // WINDOW)
    worst, missed = [], 0
    for job in jobs:
        seen = [start, *sorted(times[job]), end]
        worst.append(max(b - a for a, b in itertools.pairwise(seen)))
        for n in range(windows):
            low, high = start + n * WINDOW, start + (n + 1) * WINDOW
            missed += not any(low <= t < high for t in times[job])
    return worst, missed, windows


@dataclass
class Measured:
    """What one run saw: poll arrivals, autocomplete latencies, the bot's CPU and RSS."""

    count: int
    start: float
    seconds: float
    arrivals: list[tuple[float, str]]
    jobs: list[str]
    latency: list[float]
    asked: int
    cpu: float
    rss: float
    stories: dict[str, float]


async def measure(tmp: Path, count: int) -> Measured:
    env = {"VIDEO_POLL_SECONDS": str(POLL_SECONDS), "VIDEO_TIMEOUT_SECONDS": "3600"}
    seconds = max(2 * WINDOW, MEASURE * scale())
    async with rig(tmp / f"video{count}", **env) as bench:
        bench.xai.route_latency[POLL] = POLL_LATENCY
        await seed(bench, count)
        await bench.start_bot()
        await autocomplete(bench)
        start = await first_poll(bench)
        sampler, load = Sampler(bench.pid, 0.25), AutocompleteLoad(bench)
        cpu = cpu_seconds(bench.pid)
        sampler.start()
        load.start()
        await asyncio.sleep(max(0.0, start + seconds - time.monotonic()))
        records = await load.stop()
        cpu = cpu_seconds(bench.pid) - cpu
        await sampler.stop()
        arrivals = polls(bench)
        stories = await memory_under_load(bench)
    latency = [(r.callbacks[0].at - r.created_at) * 1000 for r in records if r.callbacks]
    jobs = list({job for _, job in arrivals} | set(bench.xai.jobs))
    rss = sampler.peak_rss() * MB_PER_MIB
    return Measured(count, start, seconds, arrivals, jobs, latency, len(records), cpu, rss, stories)


def figures(m: Measured) -> list[Figure]:
    end = m.start + m.seconds
    worst, missed, windows = gaps(m.arrivals, m.jobs, m.start, end)
    polled = sum(1 for at, _ in m.arrivals if m.start <= at <= end)
    p99 = percentile(m.latency, 99)
    detail = f"VIDEO_POLL_SECONDS={POLL_SECONDS:g}, {m.seconds:.0f} s from the first poll"
    return [
        Figure(
            "autocomplete p99 while jobs poll", p99, "ms",
            f"{len(m.latency)}/{m.asked} answered at 20/s, p50 {percentile(m.latency, 50):.1f} ms",
            f"≤ {AUTOCOMPLETE_TARGET:g} ms", p99 <= AUTOCOMPLETE_TARGET,
        ),
        Figure(
            "worst gap between polls of one job", max(worst), "s",
            f"median job's worst gap {median(worst):.1f} s; {detail}",
            f"≤ {WINDOW:g} s", max(worst) <= WINDOW,
        ),
        Figure(
            f"(job, {WINDOW:g} s window) pairs without a poll", missed, "count",
            f"{len(m.jobs)} jobs x {windows} windows", "0", missed == 0,
        ),
        Figure(
            "polls per second", polled / m.seconds, "1/s",
            f"{polled} polls answered in {POLL_LATENCY * 1000:.0f} ms",
        ),
        Figure(
            "bot CPU per poll", m.cpu / max(polled, 1) * 1000, "ms",
            f"{m.cpu:.1f} s of CPU, {m.cpu / m.seconds:.0%} of one core",
        ),
        Figure(
            f"bot RSS (peak) with {m.count} jobs polling", m.rss, "MB",
            "10^6 bytes; VmRSS every 0.25 s", f"≤ {RSS_TARGET:g} MB", m.rss <= RSS_TARGET,
        ),
        Figure(
            f"bot RSS peak, + {STORIES} stories at once", m.stories["rss_peak_mb"], "MB",
            f"{m.stories['stuck']:.0f} unfinished",
        ),
        cpu_per_scene(
            f"{STORIES} stories at once on top", (m.stories["cpu"], m.stories["harness"]), STORIES
        ),
    ]  # fmt: skip


async def memory_under_load(bench: Rig) -> dict[str, float]:
    """Peak RSS and CPU while STORIES stories are in flight on top of the polling jobs."""
    sampler = Sampler(bench.pid, period=0.05)
    sampler.start()
    meter = CpuMeter(bench.pid)
    records = await fire(bench, STORIES, None)
    stuck = await wait_all(bench, records, within=120)
    cpu, harness = meter.lap()
    await sampler.stop()
    peak = sampler.peak_rss() * MB_PER_MIB
    return {"rss_peak_mb": peak, "stuck": stuck, "cpu": cpu, "harness": harness}


async def run(jobs: int) -> None:
    count = max(10, round(jobs * scale()))
    with tempfile.TemporaryDirectory(prefix="storybot-bench-") as tmp:
        measured = await measure(Path(tmp), count)
    result = figures(measured)
    print(table("\n== video loop ==", result))
    extra = {"poll_seconds": POLL_SECONDS, "autocompletes": measured.asked}
    print(write_results("video_loop", result, extra))


def main() -> None:
    asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else JOBS))


if __name__ == "__main__":
    main()
