"""Profile the bot (cProfile, in its own process) while 1,000 video jobs poll every second.

python -m bench.profile_tick [jobs]    # writes bench/results/tick_<jobs>.prof, prints the top
"""

from __future__ import annotations

import asyncio
import os
import pstats
import sys
import tempfile
from pathlib import Path

from bench.common import RESULTS
from bench.rig import rig
from bench.video_bench import POLL_LATENCY, POLL_SECONDS, first_poll, seed
from tests.fakes.xai_api import POLL

TOP = 30
SECONDS = 20.0  # of polling, from the first poll


async def profile(jobs: int, folder: Path) -> Path:
    os.environ["BENCH_PROFILE"] = str(folder)
    env = {"VIDEO_POLL_SECONDS": str(POLL_SECONDS), "VIDEO_TIMEOUT_SECONDS": "3600"}
    async with rig(folder / f"tick_{jobs}", **env) as bench:
        bench.xai.route_latency[POLL] = POLL_LATENCY
        await seed(bench, jobs)
        await bench.start_bot()
        await first_poll(bench)
        await asyncio.sleep(SECONDS)
        await bench.stop_bot()
    return folder / f"tick_{jobs}.prof"


def main() -> None:
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory(prefix="storybot-profile-") as tmp:
        written = asyncio.run(profile(jobs, Path(tmp)))
        target = RESULTS / written.name
        target.write_bytes(written.read_bytes())
    stats = pstats.Stats(str(target))
    stats.sort_stats("cumulative").print_stats(TOP)
    stats.sort_stats("tottime").print_stats(TOP)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
