"""SIGKILL of the real `python -m bot` in each video job state, then a restart of the process on
the same DATA_DIR (SPEC §8, docs/RELIABILITY.md "Process faults"). The bot runs as a subprocess
against the loopback Discord, OpenAI and xAI stand-ins, exactly as tests/e2e/test_process.py
starts it; each test kills it with SIGKILL while one request is held in flight, starts it again
and checks what the member sees, that no job was submitted twice and that the database is whole."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from pathlib import Path

from tests.e2e.helpers import custom_id, embed_fields
from tests.fakes.discord import DiscordStandin, StoredMessage
from tests.fakes.openai_api import OpenAIStandin
from tests.fakes.xai_api import FILES, POLL, VIDEOS, XAIStandin

ROOT = Path(__file__).resolve().parents[2]
WITHIN = 30.0  # seconds any one wait may take before the test fails
HELD = 60.0  # seconds a held request stays in flight: far longer than any test
CHANNEL_EDIT = r"/channels/\d+/messages/\d+"
# The Discord stand-in's delays do not end when it closes: its teardown waits them out.
HELD_EDIT = 10.0


class Bot:
    """`python -m bot` against the stand-ins; `start`, `kill` (SIGKILL) and `start` again."""

    def __init__(
        self, discord: DiscordStandin, openai: OpenAIStandin, xai: XAIStandin, data_dir: Path
    ) -> None:
        self.discord = discord
        self.data_dir = data_dir
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
        for name in ("DEV_GUILD_ID", "MODELS_FILE", "TIERS_FILE", "TEXT_MODEL"):
            env.pop(name, None)
        self.env = env | {
            "PYTHONPATH": str(ROOT),
            "DISCORD_TOKEN": discord.token,
            "DISCORD_API_BASE_URL": discord.api_base_url,
            "DISCORD_GATEWAY_URL": discord.gateway_url,
            "OPENAI_API_KEY": "sk-test-crash",
            "OPENAI_BASE_URL": openai.base_url,
            "XAI_API_KEY": "xai-test-crash",
            "XAI_BASE_URL": xai.base_url,
            "DATA_DIR": str(data_dir),
            "DEFAULT_TIER": "premium",
            "VIDEO_POLL_SECONDS": "0.05",
            "LOG_LEVEL": "WARNING",
        }
        self.process: asyncio.subprocess.Process | None = None
        self.stderr: list[str] = []

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=self.data_dir.parent,
            env=self.env,
            stderr=asyncio.subprocess.PIPE,
        )
        await self.discord.wait_until_connected(within=WITHIN)

    async def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs in the bot."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self._reap()
        assert self.process.returncode == -signal.SIGKILL
        await self.discord.until(
            lambda: not self.discord.gateway.connected, WITHIN, "for the gateway to drop"
        )

    async def stop(self) -> None:
        """SIGTERM, as an operator stops it; the exit must be clean."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        await self._reap()
        assert self.process.returncode == 0, self.stderr[-1]

    async def _reap(self) -> None:
        assert self.process is not None
        await asyncio.wait_for(self.process.wait(), timeout=WITHIN)
        if self.process.stderr is not None:
            self.stderr.append((await self.process.stderr.read()).decode())

    async def ensure_dead(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@asynccontextmanager
async def _bot(
    discord: DiscordStandin, openai: OpenAIStandin, xai: XAIStandin, tmp_path: Path
) -> AsyncIterator[Bot]:
    bot = Bot(discord, openai, xai, tmp_path / "data")
    try:
        yield bot
    finally:
        await bot.ensure_dead()


async def _eventually(predicate: Callable[[], bool], what: str) -> None:
    """Poll a condition the Discord stand-in cannot wake us for (xAI requests, the database)."""
    deadline = time.monotonic() + WITHIN
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {WITHIN}s waiting {what}"
        await asyncio.sleep(0.02)


def _jobs(data_dir: Path) -> list[tuple[str, str | None, int, str | None]]:
    """(state, reason, reported, provider_request_id) of every video job, oldest first."""
    db = data_dir / "storybot.db"
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        rows = conn.execute(
            "SELECT state, reason, reported, provider_request_id FROM video_jobs ORDER BY id"
        ).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def _state_is(data_dir: Path, state: str) -> Callable[[], bool]:
    def check() -> bool:
        jobs = _jobs(data_dir)
        return bool(jobs) and jobs[-1][0] == state

    return check


def _video_field(message: StoredMessage) -> str:
    return embed_fields(message).get("Video", "") if message.embeds else ""


async def _story_and_animate(discord: DiscordStandin) -> StoredMessage:
    ix = await discord.slash("story", "start", options={"premise": "A lighthouse keeper"})
    scene = await ix.wait_for_final(within=WITHIN)
    assert scene is not None
    assert scene.filenames == ["scene.png"], scene
    click = await discord.click(scene, custom_id(scene, "animate"))
    answer = await click.wait_for_final(within=WITHIN)
    assert answer is not None
    assert answer.id == scene.id, "Animate is answered on the scene message"
    return scene


async def _until_video(discord: DiscordStandin, scene: StoredMessage) -> None:
    await discord.until(
        lambda: "scene.mp4" in scene.filenames, WITHIN, "for the MP4 on the scene message"
    )


def _after_stop(bot: Bot, xai: XAIStandin, *, submits: int) -> None:
    """What every crash must leave once the bot has stopped: each job done or failed with a
    reason, no job submitted twice, every accepted request id held by one job, a whole db."""
    jobs = _jobs(bot.data_dir)
    for state, reason, reported, _ in jobs:
        assert state in ("done", "failed"), jobs
        assert state == "done" or reason, f"a failed job without a reason: {jobs}"
        assert reported == 1, f"a finished job never shown on its message: {jobs}"
    ids = [request_id for *_, request_id in jobs if request_id is not None]
    assert len(ids) == len(set(ids)), f"a request id is held by two jobs: {jobs}"
    assert len(xai.requests_to(VIDEOS)) == submits, "a video was submitted twice"
    assert "Traceback" not in "".join(bot.stderr[1:]), bot.stderr
    db = bot.data_dir / "storybot.db"
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM pragma_foreign_key_check").fetchone() == (0,)


def _video_files(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "videos").iterdir())


async def test_sigkill_while_submitting_says_interrupted_and_animate_starts_a_new_job(
    discord_standin: DiscordStandin,
    openai_standin: OpenAIStandin,
    xai_standin: XAIStandin,
    tmp_path: Path,
) -> None:
    xai_standin.queue(VIDEOS, delay=HELD)  # the first submit stays in flight
    async with _bot(discord_standin, openai_standin, xai_standin, tmp_path) as bot:
        await bot.start()
        scene = await _story_and_animate(discord_standin)
        await _eventually(lambda: len(xai_standin.requests_to(VIDEOS)) == 1, "for the submit")
        assert _state_is(bot.data_dir, "submitting")()
        await bot.kill()
        await bot.start()
        await discord_standin.until(
            lambda: "restart interrupted it" in _video_field(scene),
            WITHIN,
            "for the scene to say the restart interrupted it",
        )
        assert "press Animate" in _video_field(scene)
        (interrupted,) = _jobs(bot.data_dir)
        assert interrupted[0] == "failed"
        assert interrupted[3] is None, "no request id: the provider's answer never arrived"
        assert len(xai_standin.requests_to(VIDEOS)) == 1, "an interrupted job is never resent"
        click = await discord_standin.click(scene, custom_id(scene, "animate"))
        assert await click.wait_for_final(within=WITHIN) is not None
        await _until_video(discord_standin, scene)
        await _eventually(lambda: _jobs(bot.data_dir)[-1][2] == 1, "for the job to be reported")
        await bot.stop()
    _after_stop(bot, xai_standin, submits=2)  # the interrupted one, and Animate's new one
    assert [job[0] for job in _jobs(bot.data_dir)] == ["failed", "done"]


async def test_sigkill_while_submitted_still_delivers_the_video_with_one_submit(
    discord_standin: DiscordStandin,
    openai_standin: OpenAIStandin,
    xai_standin: XAIStandin,
    tmp_path: Path,
) -> None:
    xai_standin.polls_until_done = 1_000_000  # pending until the test lets it finish
    async with _bot(discord_standin, openai_standin, xai_standin, tmp_path) as bot:
        await bot.start()
        scene = await _story_and_animate(discord_standin)
        await _eventually(lambda: len(xai_standin.requests_to(POLL)) >= 2, "for pending polls")
        assert _state_is(bot.data_dir, "submitted")()
        await bot.kill()
        polls = len(xai_standin.requests_to(POLL))
        await bot.start()
        await _eventually(lambda: len(xai_standin.requests_to(POLL)) > polls, "for a new poll")
        xai_standin.polls_until_done = 1
        await _until_video(discord_standin, scene)
        assert scene.filenames == ["scene.png", "scene.mp4"]
        assert len(discord_standin.messages_in()) == 1, "the video went to the same message"
        await _eventually(lambda: _jobs(bot.data_dir)[-1][2] == 1, "for the job to be reported")
        await bot.stop()
    _after_stop(bot, xai_standin, submits=1)
    (job,) = _jobs(bot.data_dir)
    assert job[0] == "done"
    assert _video_files(bot.data_dir) == ["1.mp4"]
    assert scene.attachments[1].data == xai_standin.video_bytes(job[3] or "")


async def test_sigkill_while_downloading_delivers_the_video_and_leaves_no_partial_file(
    discord_standin: DiscordStandin,
    openai_standin: OpenAIStandin,
    xai_standin: XAIStandin,
    tmp_path: Path,
) -> None:
    xai_standin.queue(FILES, delay=HELD)  # the first download stays in flight
    async with _bot(discord_standin, openai_standin, xai_standin, tmp_path) as bot:
        await bot.start()
        scene = await _story_and_animate(discord_standin)
        await _eventually(lambda: len(xai_standin.requests_to(FILES)) == 1, "for the download")
        assert _state_is(bot.data_dir, "downloading")()
        await bot.kill()
        await bot.start()
        await _until_video(discord_standin, scene)
        assert len(discord_standin.messages_in()) == 1, "the video went to the same message"
        await _eventually(lambda: _jobs(bot.data_dir)[-1][2] == 1, "for the job to be reported")
        await bot.stop()
    _after_stop(bot, xai_standin, submits=1)
    (job,) = _jobs(bot.data_dir)
    assert job[0] == "done"
    assert len(xai_standin.requests_to(FILES)) == 2, "downloaded again after the restart"
    assert _video_files(bot.data_dir) == ["1.mp4"], "no partial file is left"
    assert scene.attachments[1].data == xai_standin.video_bytes(job[3] or "")


async def test_sigkill_when_done_but_not_yet_reported_still_shows_the_video(
    discord_standin: DiscordStandin,
    openai_standin: OpenAIStandin,
    xai_standin: XAIStandin,
    tmp_path: Path,
) -> None:
    async with _bot(discord_standin, openai_standin, xai_standin, tmp_path) as bot:
        await bot.start()
        scene = await _story_and_animate(discord_standin)
        # From here, the first channel edit that carries the MP4 is held in flight.
        held = discord_standin.slow("PATCH", CHANNEL_EDIT, HELD_EDIT)
        await _eventually(lambda: held.hits == 1, "for the video edit")
        assert "scene.mp4" in [f.filename for f in held.requests[0].files], "the video's edit"
        (job,) = _jobs(bot.data_dir)
        assert (job[0], job[2]) == ("done", 0), f"done but not yet reported: {job}"
        assert _video_files(bot.data_dir) == ["1.mp4"]
        await bot.kill()
        assert "scene.mp4" not in scene.filenames
        await bot.start()
        await _until_video(discord_standin, scene)
        assert not held.requests[0].status, "the restarted bot attached it, not the dead one"
        await _eventually(lambda: _jobs(bot.data_dir)[-1][2] == 1, "for the job to be reported")
        await bot.stop()
    _after_stop(bot, xai_standin, submits=1)
    assert len(xai_standin.requests_to(FILES)) == 1, "a finished video is not fetched again"
    assert _video_files(bot.data_dir) == ["1.mp4"]
