"""Settings parsing, `python -m bot check` and the no-token start, run as real processes."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings
from providers.connect import CONNECTORS
from providers.registry import PROVIDERS, Provider

ROOT = Path(__file__).resolve().parents[2]


def run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    clean |= {"PYTHONPATH": str(ROOT), "DATA_DIR": str(tmp_path / "data"), **env}
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no .env there
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_owner_ids_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OWNER_IDS", "11, 22,33")
    assert Settings(_env_file=None).owner_ids == frozenset({11, 22, 33})  # type: ignore[call-arg]


def test_empty_key_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")
    monkeypatch.setenv("XAI_API_KEY", "xai-test")
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.keyed_providers() == frozenset({Provider.XAI})


def test_defaults_match_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TEXT_MODEL", "XAI_BASE_URL", "DEFAULT_TIER", "VIDEO_POLL_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.text_model is None  # the scene-writing provider's default
    assert settings.xai_base_url == "https://api.x.ai/v1"
    assert settings.discord_api_base_url == "https://discord.com/api/v10"
    assert settings.discord_gateway_url == "wss://gateway.discord.gg/"
    assert (settings.default_tier, settings.video_poll_seconds) == ("free", 5)
    assert settings.video_timeout_seconds == 300


def test_no_token_prints_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    result = run_bot(tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "DISCORD_TOKEN is not set: copy .env.example to .env and put your bot token in it."
    ]


def test_check_lists_every_model_with_its_state_and_never_a_secret(tmp_path: Path) -> None:
    result = run_bot(
        tmp_path,
        "check",
        DISCORD_TOKEN="discord-secret-token",
        XAI_API_KEY="xai-secret-key-123",
        TIERS_FILE=str(ROOT / "tests" / "bot" / "tiers_without_gpt_image_2.toml"),
        DEFAULT_TIER="everything",
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "discord-secret-token" not in out + result.stderr
    assert "xai-secret-key-123" not in out + result.stderr
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert "missing key (OPENAI_API_KEY)" in lines["gpt-image-2.6-flare"]
    assert "retired on 2026-10-23 → gpt-image-2 (GPT Image 2)" in lines["gpt-image-1"]
    assert "available (tiers: everything)" in lines["grok-imagine"]
    assert "missing key (GEMINI_API_KEY)" in lines["gemini"]
    assert "grok-imagine-video (xAI): available" in out
    assert "grok-4.20-non-reasoning (xAI, default): writes scene text" in out
    assert "DISCORD_TOKEN: set" in out


def text_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stdout.splitlines()
    return lines[lines.index("Text model:") + 1].strip()


@pytest.mark.parametrize(
    ("keys", "line"),
    [
        ({}, "none (no OPENAI_API_KEY, XAI_API_KEY or GEMINI_API_KEY): scene text is the "
         "member's premise or direction"),
        ({"GEMINI_API_KEY": "g"}, "gemini-3.8-flash (Google, default): writes scene text"),
        ({"XAI_API_KEY": "x", "GEMINI_API_KEY": "g"},
         "grok-4.20-non-reasoning (xAI, default): writes scene text"),
        ({"OPENAI_API_KEY": "o", "XAI_API_KEY": "x"},
         "gpt-5.4-mini (OpenAI, default): writes scene text"),
        ({"XAI_API_KEY": "x", "TEXT_MODEL": "grok-4.3"},
         "grok-4.3 (xAI, TEXT_MODEL): writes scene text"),
    ],
)  # fmt: skip
def test_check_says_which_provider_and_model_write_scene_text(
    tmp_path: Path, keys: dict[str, str], line: str
) -> None:
    result = run_bot(tmp_path, "check", DISCORD_TOKEN="t", **keys)
    assert result.returncode == 0, result.stderr
    assert text_line(result) == line


def test_check_says_when_a_keyed_model_is_in_no_tier(tmp_path: Path) -> None:
    result = run_bot(
        tmp_path,
        "check",
        DISCORD_TOKEN="t",
        OPENAI_API_KEY="sk-test",
        TIERS_FILE=str(ROOT / "tests" / "bot" / "tiers_without_gpt_image_2.toml"),
        DEFAULT_TIER="everything",
    )
    line = next(x for x in result.stdout.splitlines() if x.strip().startswith("gpt-image-2 "))
    assert "not in any tier" in line


def test_check_fails_on_a_broken_tiers_file_naming_file_and_line(tmp_path: Path) -> None:
    tiers = tmp_path / "tiers.toml"
    tiers.write_text("[tiers.free]\nmodels = [\n")
    result = run_bot(tmp_path, "check", DISCORD_TOKEN="t", TIERS_FILE=str(tiers))
    assert result.returncode == 1
    assert str(tiers) in result.stderr
    assert "line" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_fails_on_a_models_file_whose_successors_loop(tmp_path: Path) -> None:
    models = tmp_path / "models.toml"
    models.write_text('[models."gpt-image-2"]\nstatus = "retired"\nsuccessor = "gpt-image-1"\n')
    result = run_bot(tmp_path, "check", DISCORD_TOKEN="t", MODELS_FILE=str(models))
    assert result.returncode == 1
    assert str(models) in result.stderr
    assert "loops" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_fails_on_an_unknown_default_tier(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "check", DISCORD_TOKEN="t", DEFAULT_TIER="gold")
    assert result.returncode == 1
    assert "DEFAULT_TIER 'gold'" in result.stderr


def test_check_fails_on_a_malformed_setting(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "check", DISCORD_TOKEN="t", VIDEO_POLL_SECONDS="soon")
    assert result.returncode == 1
    assert "VIDEO_POLL_SECONDS" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_without_a_token_reports_it_and_fails(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "check")
    assert result.returncode == 1
    assert "DISCORD_TOKEN: missing (required to run)" in result.stdout


def test_a_copied_env_example_is_valid_and_only_asks_for_the_token(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    result = run_bot(tmp_path, "check")
    assert "Configuration error" not in result.stderr
    assert "DISCORD_TOKEN: missing (required to run)" in result.stdout


def test_discord_unreachable_at_start_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_bot(tmp_path, DISCORD_TOKEN="t", DISCORD_API_BASE_URL=f"http://127.0.0.1:{port}")
    assert result.returncode == 1
    assert f"Could not reach Discord at http://127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_shows_sqlite_under_the_data_dir_by_default(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "check", DISCORD_TOKEN="t")
    assert f"Storage: SQLite at {tmp_path / 'data' / 'storybot.db'}" in result.stdout


def test_check_shows_the_postgresql_backend_without_its_password(tmp_path: Path) -> None:
    url = "postgresql://storybot:pg-secret-pw@db.internal:5432/storybot"
    result = run_bot(tmp_path, "check", DISCORD_TOKEN="t", DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert "Storage: PostgreSQL at postgresql://storybot:***@db.internal:5432/storybot" in (
        result.stdout
    )
    assert "pg-secret-pw" not in result.stdout + result.stderr
    assert f"Data dir: {tmp_path / 'data'}" in result.stdout


def test_a_database_url_that_is_not_postgresql_is_refused(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "check", DISCORD_TOKEN="t", DATABASE_URL="mysql://x@y/z")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_check_shows_the_shards_this_process_runs(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "check", DISCORD_TOKEN="t", SHARD_COUNT="4", SHARD_IDS="2,0")
    assert result.returncode == 0, result.stderr
    assert "Shards: 0, 2 of 4; syncs commands" in result.stdout
    default = run_bot(tmp_path, "check", DISCORD_TOKEN="t")
    assert "Shards: all in this process" in default.stdout


def test_shard_ids_outside_the_shard_count_are_refused(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "check", DISCORD_TOKEN="t", SHARD_COUNT="2", SHARD_IDS="2")
    assert result.returncode != 0
    assert "SHARD_IDS" in result.stderr


@pytest.mark.parametrize("provider", list(Provider))
def test_each_provider_of_the_table_has_its_key_url_and_connector(
    provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = PROVIDERS[provider]
    monkeypatch.setenv(info.key_variable, "key-of-" + provider.value)
    monkeypatch.setenv(info.base_url_variable, "http://127.0.0.1:9/" + provider.value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert provider in settings.keyed_providers()
    assert settings.base_url(provider) == "http://127.0.0.1:9/" + provider.value
    assert "key-of-" + provider.value in settings.secrets(), "logging scrubs every key"
    assert provider in CONNECTORS
