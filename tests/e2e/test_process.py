"""`python -m bot` as a real process (what `make run` starts) against the loopback stand-ins."""

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

from tests.fakes.discord import DiscordStandin
from tests.fakes.openai_api import OpenAIStandin

ROOT = Path(__file__).resolve().parents[2]


async def test_python_m_bot_tells_a_story_and_stops_cleanly_on_sigterm(
    discord_standin: DiscordStandin, openai_standin: OpenAIStandin, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": discord_standin.token,
        "DISCORD_API_BASE_URL": discord_standin.api_base_url,
        "DISCORD_GATEWAY_URL": discord_standin.gateway_url,
        "OPENAI_API_KEY": "sk-test-process",
        "OPENAI_BASE_URL": openai_standin.base_url,
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "WARNING",
    }
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
