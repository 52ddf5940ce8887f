"""`make bench`: every benchmark in turn — storage, then the bot (start-up, acknowledgement,
overhead), its storage round trips per scene, then the video loop and memory, then the
storybook, then scale-out on PostgreSQL. Each prints its table and writes bench/results/."""

from __future__ import annotations

import asyncio

from bench import book_bench, bot_bench, scale_bench, statements, storage_bench, video_bench


def main() -> None:
    storage_bench.main()
    asyncio.run(bot_bench.run(list(bot_bench.SCENARIOS)))
    asyncio.run(statements.run())
    asyncio.run(video_bench.run(video_bench.JOBS))
    asyncio.run(book_bench.run())
    scale_bench.main(list(scale_bench.PROCESSES))


if __name__ == "__main__":
    main()
