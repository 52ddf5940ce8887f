"""The rig: loopback stand-ins in this process, `python -m bot` as a separate process.

The bot is started exactly as `make run` starts it, with only environment variables pointing
it at the stand-ins, so its CPU, memory and latency are its own and the load generator (this
process) does not share its event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.discord import DiscordStandin
from tests.fakes.gemini_api import GeminiStandin
from tests.fakes.openai_api import CHAT, EDITS, GENERATIONS, OpenAIStandin
from tests.fakes.xai_api import XAIStandin

ROOT = Path(__file__).resolve().parents[1]
# The bot's code: this checkout, or BENCH_BOT_ROOT (e.g. an export of an older commit, to
# measure a before and an after with the same benchmark).
BOT_ROOT = Path(os.environ.get("BENCH_BOT_ROOT") or ROOT).resolve()
IMAGE_LATENCY = 1.0  # seconds every image request waits at the stand-in
TEXT_LATENCY = 1.0  # seconds every scene text request waits at the stand-in
PROVIDER_TIME = TEXT_LATENCY + IMAGE_LATENCY  # a scene's provider time: text, then picture
MODEL = "gpt-image-2"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Quotas high enough that no benchmark is refused; otherwise the premium tier of SPEC §7.
TIERS = """[tiers.premium]
models = "all"
video = true
scenes_per_day = 1000000
member_scenes_per_day = 1000000
videos_per_day = 1000000
max_references = 5
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """A measured load without this process's cyclic collector, which collects between loads.

    The stand-ins keep every request they saw, so a full collection here took 60 ms; inside a
    load it delayed the stand-ins' answers and timestamps, and the figures charged the pause to
    the bot (in one burst of 200 it fell between the 150th deferral, at 137 ms, and the 190th,
    at 205 ms)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class CpuMeter:
    """CPU seconds the bot and this process (the load and the stand-ins) spend between laps."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._at = self._now()

    def _now(self) -> tuple[float, float]:
        return cpu_seconds(self.pid), cpu_seconds(os.getpid())

    def lap(self) -> tuple[float, float]:
        """(bot, benchmark) CPU seconds since the last lap."""
        now, before = self._now(), self._at
        self._at = now
        return now[0] - before[0], now[1] - before[1]


def _status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024  # kB → MiB
    return float("nan")


def rss_mb(pid: int) -> float:
    """Resident set size now (VmRSS), in MiB."""
    return _status_mb(pid, "VmRSS:")


def peak_rss_mb(pid: int) -> float:
    """High-water mark of the resident set (VmHWM), in MiB."""
    return _status_mb(pid, "VmHWM:")


@dataclass
class Sampler:
    """Samples a process's CPU and RSS every `period` seconds, with monotonic timestamps."""

    pid: int
    period: float = 0.02
    samples: list[tuple[float, float, float]] = field(default_factory=list)  # (t, cpu, rss)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self.take()
            await asyncio.sleep(self.period)

    def take(self) -> None:
        with contextlib.suppress(OSError):
            self.samples.append((time.monotonic(), cpu_seconds(self.pid), rss_mb(self.pid)))

    def cpu_between(self, start: float, end: float) -> float:
        """CPU seconds spent between two monotonic instants (nearest samples outside them)."""
        before = [s for s in self.samples if s[0] <= start] or self.samples[:1]
        after = [s for s in self.samples if s[0] >= end] or self.samples[-1:]
        return after[0][1] - before[-1][1]

    def peak_rss(self, start: float = 0.0, end: float = float("inf")) -> float:
        return max((s[2] for s in self.samples if start <= s[0] <= end), default=float("nan"))


@dataclass
class Rig:
    """Running stand-ins plus the data dir and environment a bot process will use."""

    discord: DiscordStandin
    openai: OpenAIStandin
    xai: XAIStandin
    gemini: GeminiStandin
    workdir: Path
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def pid(self) -> int:
        assert self.process is not None, "the bot is not running"
        return self.process.pid

    async def start_bot(self) -> float:
        """Start `python -m bot`; returns seconds from exec to the gateway session being up."""
        stderr = (self.workdir / "bot.stderr").open("ab")
        command = bot_command(self.workdir.name)
        self.started_at = time.monotonic()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, *command, cwd=self.workdir, env=self.env, stderr=stderr
        )
        stderr.close()
        await self.discord.wait_until_connected(within=60)
        return time.monotonic() - self.started_at

    async def stop_bot(self) -> None:
        """SIGTERM, as systemd stops it; the bot closes cleanly."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()

    def stderr(self) -> str:
        path = self.workdir / "bot.stderr"
        return path.read_text(errors="replace") if path.exists() else ""


def bot_command(name: str) -> list[str]:
    """`-m bot`, or under cProfile when BENCH_PROFILE names a folder for `<name>.prof`."""
    profile = os.environ.get("BENCH_PROFILE")
    if not profile:
        return ["-m", "bot"]
    Path(profile).mkdir(parents=True, exist_ok=True)
    return ["-m", "cProfile", "-o", f"{profile}/{name}.prof", "-m", "bot"]


def prepare(workdir: Path) -> Path:
    """The work folder and the tiers file in it (before any load: blocking is fine here)."""
    workdir.mkdir(parents=True, exist_ok=True)
    tiers_file = workdir / "tiers.toml"
    tiers_file.write_text(TIERS)
    return tiers_file


@contextlib.asynccontextmanager
async def rig(
    workdir: Path, *, without: tuple[str, ...] = (), **settings: str
) -> AsyncIterator[Rig]:
    """Stand-ins up (images answer after IMAGE_LATENCY, scene text after TEXT_LATENCY),
    environment ready. `without` names providers whose key is left out, e.g. ("GEMINI",)."""
    tiers_file = prepare(workdir)
    async with (
        DiscordStandin() as discord,
        OpenAIStandin() as openai,
        XAIStandin() as xai,
        GeminiStandin() as gemini,
    ):
        for route in (GENERATIONS, EDITS):
            openai.always(route, delay=IMAGE_LATENCY)
        openai.always(CHAT, delay=TEXT_LATENCY)
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
        env |= {
            "PYTHONPATH": str(BOT_ROOT),
            "DISCORD_TOKEN": discord.token,
            "DISCORD_API_BASE_URL": discord.api_base_url,
            "DISCORD_GATEWAY_URL": discord.gateway_url,
            "OPENAI_API_KEY": "sk-bench-openai",
            "OPENAI_BASE_URL": openai.base_url,
            "XAI_API_KEY": "xai-bench-key",
            "XAI_BASE_URL": xai.base_url,
            "GEMINI_API_KEY": "gemini-bench-key",
            "GEMINI_BASE_URL": gemini.base_url,
            "DATA_DIR": str(workdir / "data"),
            "TIERS_FILE": str(tiers_file),
            "DEFAULT_TIER": "premium",
            "LOG_LEVEL": "WARNING",
        }
        env |= settings
        for provider in without:
            del env[f"{provider}_API_KEY"], env[f"{provider}_BASE_URL"]
        for name in ("DEV_GUILD_ID", "MODELS_FILE", "TEXT_MODEL", "OWNER_IDS"):
            if name not in settings:
                env.pop(name, None)
        # The tests hold every request and answer of the stand-ins to the official specs
        # (tests/conformance). Here that jsonschema work would cost this process more CPU per
        # scene than the bot spends, in the same instants, and hold back the stand-ins'
        # answers: the benchmark would measure itself (PERFORMANCE.md, "The harness").
        for standin in (discord, openai, xai, gemini):
            if standin.conformance is not None:
                standin.conformance.enabled = False
        bench_rig = Rig(discord, openai, xai, gemini, workdir, env)
        try:
            yield bench_rig
        finally:
            await bench_rig.stop_bot()
