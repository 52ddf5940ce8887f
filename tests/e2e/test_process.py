"""`python -m bot` as a real process (what `make run` starts) against the loopback stand-ins."""

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path

from tests.fakes.discord import DiscordStandin, InteractionRecord
from tests.fakes.openai_api import GENERATIONS, OpenAIStandin

ROOT = Path(__file__).resolve().parents[2]


async def test_python_m_bot_tells_a_story_and_stops_cleanly_on_sigterm(
    discord_standin: DiscordStandin, openai_standin: OpenAIStandin, tmp_path: Path
) -> None:
    env = _bot_env(discord_standin, openai_standin, tmp_path / "data", LOG_LEVEL="WARNING")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        await discord_standin.wait_until_connected(within=30)
        ix = await discord_standin.slash("story", "start", options={"premise": "A kite"})
        message = await ix.wait_for_final()
        assert message is not None
        assert message.filenames == ["scene.png"]
        assert (tmp_path / "data" / "storybot.db").exists()
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    stderr = (await process.stderr.read()).decode() if process.stderr else ""
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert "sk-test-process" not in stderr


async def test_a_database_from_a_newer_version_stops_start_up_in_one_line(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "storybot.db") as db:
        db.execute("PRAGMA user_version = 99")
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    env |= {"PYTHONPATH": str(ROOT), "DISCORD_TOKEN": "token", "DATA_DIR": str(data)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    lines = err.decode().strip().splitlines()
    assert process.returncode == 1
    assert len(lines) == 1, lines
    assert "newer StoryBot (schema version 99" in lines[0]


async def test_a_web_port_in_use_stops_start_up_in_one_line(
    discord_standin: DiscordStandin, openai_standin: OpenAIStandin, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))  # the server binds every interface too
        taken.listen()
        port = str(taken.getsockname()[1])
        web = {"WEB_BASE_URL": "https://books.example", "WEB_PORT": port, "WEB_SECRET": "s3cret"}
        env = _bot_env(discord_standin, openai_standin, tmp_path / "data", **web)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
        )
        try:
            _, err = await asyncio.wait_for(process.communicate(), timeout=60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    text = err.decode()
    assert process.returncode == 1, text
    assert "Traceback" not in text
    assert f"Not started: the storybook web server cannot listen on WEB_PORT {port}" in text


def _bot_env(
    discord: DiscordStandin, openai: OpenAIStandin, data: Path, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    return env | {
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": discord.token,
        "DISCORD_API_BASE_URL": discord.api_base_url,
        "DISCORD_GATEWAY_URL": discord.gateway_url,
        "OPENAI_API_KEY": "sk-test-process",
        "OPENAI_BASE_URL": openai.base_url,
        "DATA_DIR": str(data),
        "LOG_LEVEL": "INFO",
        **extra,
    }


async def _sigterm_mid_scene(
    discord: DiscordStandin, openai: OpenAIStandin, tmp_path: Path, **extra: str
) -> tuple[InteractionRecord, InteractionRecord, int, str]:
    """Start `python -m bot`, begin a scene, SIGTERM while it is drawn, then press a command
    during the drain. Returns both interactions, the exit code and stderr."""
    env = _bot_env(discord, openai, tmp_path / "data", **extra)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        await discord.wait_until_connected(within=30)
        first = await discord.slash("story", "start", options={"premise": "A kite"})
        for _ in range(200):  # the OpenAI stand-in has the drawing request (polled: 10 s)
            if openai.requests_to(GENERATIONS):
                break
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.3)  # the signal is handled; the gateway is still open
        second = await discord.slash("usage", wait_ack=False)
        code = await asyncio.wait_for(process.wait(), timeout=40)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    stderr = (await process.stderr.read()).decode() if process.stderr else ""
    return first, second, code, stderr


async def test_sigterm_mid_scene_lets_it_finish_takes_nothing_new_and_exits_0(
    discord_standin: DiscordStandin, openai_standin: OpenAIStandin, tmp_path: Path
) -> None:
    openai_standin.latency = 1.5  # the scene is still being drawn when SIGTERM comes
    first, second, code, stderr = await _sigterm_mid_scene(
        discord_standin, openai_standin, tmp_path
    )
    assert code == 0, stderr
    scene = await first.wait_for_final()
    assert scene is not None
    assert scene.filenames == ["scene.png"], "the scene in flight was finished and shown"
    assert second.ack is not None, stderr
    assert "restarting" in (await second.wait_for_final() or scene).content
    assert second.ephemeral
    assert not [m for m in discord_standin.messages_in() if m.loading], "left thinking"
    assert "Traceback" not in stderr
    assert "Session is closed" not in stderr


async def test_sigterm_with_a_scene_slower_than_the_grace_ends_it_in_restarted(
    discord_standin: DiscordStandin, openai_standin: OpenAIStandin, tmp_path: Path
) -> None:
    openai_standin.latency = 30.0  # far beyond the grace
    first, _, code, stderr = await _sigterm_mid_scene(
        discord_standin, openai_standin, tmp_path, SHUTDOWN_GRACE_SECONDS="1"
    )
    assert code == 0, stderr
    await first.wait_for_followups(1, within=5)
    assert "restarted" in first.followups[-1].content
    assert first.followups[-1].ephemeral
    assert not [m for m in discord_standin.messages_in() if m.loading], "left thinking"
    assert "Traceback" not in stderr
    with sqlite3.connect(tmp_path / "data" / "storybot.db") as db:
        counted = db.execute("SELECT COUNT(*) FROM usage WHERE outcome = 'ok'").fetchone()
    assert counted == (0,), "the scene that was stopped is not counted"
