"""Bot benchmarks (not tests): start-up, acknowledgement latency, overhead over provider time.

    python -m bench.bot_bench [startup|ack|overhead]     # default: all three

The bot runs as `python -m bot` in its own process against the loopback stand-ins (bench/rig.py);
images take IMAGE_LATENCY (1 s) at the stand-in, scene text answers at once. Each scenario
prints a table and writes bench/results/<scenario>.json with the machine it ran on.
BENCH_SCALE < 1 shortens every scenario for a smoke run.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Figure, median, percentile, scale, table, write_results
from bench.interactions import ack_latency, autocomplete, split, start_story, wait_all
from bench.rig import IMAGE_LATENCY, Rig, peak_rss_mb, rig, rss_mb

STARTS = 3
STEADY_RATE = 20.0  # /story start per second
STEADY_SECONDS = 30.0
BURST = 200
CONCURRENCY = (1, 10, 50)
ROUNDS = {1: 5, 10: 3, 50: 2}  # stories each concurrent member starts one after the other
IDLE_SETTLE = 2.0


async def one_start(workdir: Path) -> tuple[float, float, float, float]:
    """(exec → gateway session up, exec → first command answered, idle RSS, idle peak RSS)."""
    async with rig(workdir) as bench:
        ready = await bench.start_bot()
        choices = await autocomplete(bench)
        answered = time.monotonic() - bench.started_at
        assert choices, "autocomplete answered no model"
        await asyncio.sleep(IDLE_SETTLE)
        return ready, answered, rss_mb(bench.pid), peak_rss_mb(bench.pid)


async def bench_startup(tmp: Path) -> list[Figure]:
    """Process start to READY handled and to a command answered; fresh data dir each time."""
    runs = [await one_start(tmp / f"start{n}") for n in range(STARTS)]
    ready, answered = [r[0] for r in runs], [r[1] for r in runs]
    detail = f"median of {STARTS} cold starts (fresh DATA_DIR, command sync included)"
    return [
        Figure("exec → READY + GUILD_CREATEs handled", median(ready), "s", detail),
        Figure(
            "exec → first command answered", median(answered), "s", detail, "≤ 2 s",
            median(answered) <= 2.0,
        ),
        Figure("RSS idle", median([r[2] for r in runs]), "MiB", f"{IDLE_SETTLE:.0f} s after start"),
        Figure("peak RSS during start-up", median([r[3] for r in runs]), "MiB", "VmHWM"),
    ]  # fmt: skip


async def fire(bench: Rig, count: int, rate: float | None) -> list[object]:
    """`count` /story start at `rate` per second (None: all at once), not waiting for acks."""
    records = []
    began = time.monotonic()
    for n in range(count):
        if rate is not None:
            await asyncio.sleep(max(0.0, began + n / rate - time.monotonic()))
        records.append(await start_story(bench))
    return records


def ack_figures(label: str, records: list, target: float) -> list[Figure]:
    acks = [ack_latency(r) for r in records]
    seen = [a * 1000 for a in acks if a is not None]
    late = sum(1 for r in records if r.rejected and not r.callbacks)
    detail = f"{len(seen)}/{len(records)} acked, {late} after Discord's 3 s"
    p99 = percentile(seen, 99) if len(seen) == len(records) else float("inf")
    return [
        Figure(f"{label} ack p50", percentile(seen, 50), "ms", detail),
        Figure(f"{label} ack p95", percentile(seen, 95), "ms", detail),
        Figure(
            f"{label} ack p99", p99, "ms", detail, f"≤ {target * 1000:.0f} ms", p99 <= target * 1000
        ),
    ]


async def bench_ack(tmp: Path) -> list[Figure]:
    """A steady 20/s for 30 s, then a burst of 200 at once, against one bot."""
    count = round(STEADY_RATE * STEADY_SECONDS * scale())
    burst = max(10, round(BURST * scale()))
    async with rig(tmp / "ack") as bench:
        await bench.start_bot()
        await autocomplete(bench)  # warm: the first interaction pays for lazy imports
        steady = await fire(bench, count, STEADY_RATE)
        stuck = await wait_all(bench, steady, within=60)
        burst_records = await fire(bench, burst, None)
        stuck += await wait_all(bench, burst_records, within=120)
    rate = f"{STEADY_RATE:.0f}/s for {count / STEADY_RATE:.0f} s"
    figures = ack_figures(f"steady {rate}", steady, 0.100)
    figures += ack_figures(f"burst of {burst}", burst_records, 1.0)
    if stuck:
        figures.append(Figure("scenes not finished", stuck, "count", "within 60/120 s"))
    return figures


async def story_worker(
    bench: Rig, rounds: int, delay: float = 0.0
) -> list[tuple[float, float, float]]:
    """One member starting `rounds` stories back to back, the first after `delay` seconds:
    (end-to-end, bot time before the image request, bot time after the image answer) in
    seconds, for each."""
    await asyncio.sleep(delay)
    times = []
    for _ in range(rounds):
        began = time.monotonic()
        record = await start_story(bench)
        await record.wait_for_final(within=120)
        ended = time.monotonic() - began
        before, after = split(bench, record, IMAGE_LATENCY) or (float("nan"), float("nan"))
        times.append((ended, before, after))
    return times


async def overhead_figure(bench: Rig, concurrent: int, *, same_instant: bool) -> Figure:
    """`concurrent` members telling stories at once. Spread (the target): their first
    presses are spaced evenly over one image latency, so `concurrent` stories are always in
    flight. Same instant: every member presses in the same millisecond, and stays in step."""
    rounds = max(1, round(ROUNDS[concurrent] * scale()))
    spacing = 0.0 if same_instant else IMAGE_LATENCY / concurrent
    runs = await asyncio.gather(
        *(story_worker(bench, rounds, n * spacing) for n in range(concurrent))
    )
    ratios = [t[0] / IMAGE_LATENCY for run in runs for t in run]
    before = median([t[1] * 1000 for run in runs for t in run])
    after = median([t[2] * 1000 for run in runs for t in run])
    target = None if same_instant else {10: 1.05, 50: 1.10}.get(concurrent)
    detail = f"{len(ratios)} scenes, p95 {percentile(ratios, 95):.3f}"
    detail += f", bot before image {before:.0f} ms, after {after:.0f} ms (medians)"
    load = "all in the same instant" if same_instant else "concurrent"
    return Figure(
        f"overhead ratio, {concurrent} {load} (median)",
        median(ratios),
        "x",
        detail,
        "" if target is None else f"≤ {target}",
        None if target is None else median(ratios) <= target,
    )


async def bench_overhead(tmp: Path) -> list[Figure]:
    """Scene time / imposed provider latency with 1, 10 and 50 members at once; for 10 and
    50 also the worst case of every member pressing in the same instant."""
    figures = []
    async with rig(tmp / "overhead") as bench:
        await bench.start_bot()
        await asyncio.gather(*(story_worker(bench, 1) for _ in range(2)))  # warm-up
        for concurrent in CONCURRENCY:
            figures.append(await overhead_figure(bench, concurrent, same_instant=False))
        for concurrent in CONCURRENCY[1:]:
            figures.append(await overhead_figure(bench, concurrent, same_instant=True))
    return figures


SCENARIOS = {"startup": bench_startup, "ack": bench_ack, "overhead": bench_overhead}


async def run(names: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="storybot-bench-") as tmp:
        for name in names:
            figures = await SCENARIOS[name](Path(tmp))
            print(table(f"\n== {name} ==", figures))
            path = write_results(name, figures, {"image_latency_s": IMAGE_LATENCY})
            print(f"wrote {path}")


def main() -> None:
    names = sys.argv[1:] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")
    asyncio.run(run(names))


if __name__ == "__main__":
    main()
