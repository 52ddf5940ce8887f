"""Start `tests.storage.worker` in a child process, read its one line, SIGKILL it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30


async def start_worker(
    scenario: str,
    data_dir: Path,
    *args: int,
    database_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> asyncio.subprocess.Process:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | dict(env or {})
    if database_url is not None:
        environment["DATABASE_URL"] = database_url
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.storage.worker",
        scenario,
        str(data_dir),
        *map(str, args),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env=environment,
    )


async def first_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), TIMEOUT)
    assert line, f"worker exited early with {await process.wait()}"
    return line.decode().strip()


async def run_until_ready_then_kill(
    scenario: str,
    data_dir: Path,
    *args: int,
    database_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run the scenario up to its READY point, then SIGKILL the process there."""
    process = await start_worker(scenario, data_dir, *args, database_url=database_url, env=env)
    try:
        line = await first_line(process)
        assert line.startswith("READY"), line
    finally:
        process.kill()  # SIGKILL: no finally blocks, no atexit, no SQLite cleanup
        await process.wait()
    assert process.returncode == -signal.SIGKILL
    return line


async def run_to_completion(
    scenario: str,
    data_dir: Path,
    *args: int,
    database_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    process = await start_worker(scenario, data_dir, *args, database_url=database_url, env=env)
    line = await first_line(process)
    assert await asyncio.wait_for(process.wait(), TIMEOUT) == 0
    return line
