"""Security rows of docs/RELIABILITY.md that need no Discord: start-up on an unusable DATA_DIR,
secrets in `check` output, and where provider downloads may go in production."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.buttons import MAX_SCENE_ID, NO_SCENE, DeleteButton, SceneButton, is_ours
from bot.settings import Settings
from providers.connect import is_private as _is_private
from providers.download import check_url
from providers.errors import ProviderError
from tests.bot.test_settings_and_check import run_bot

SECRETS = {
    "DISCORD_TOKEN": "discord-secret-token-abc",
    "OPENAI_API_KEY": "sk-proj-secret-openai-123",
    "XAI_API_KEY": "xai-secret-key-456",
    "GEMINI_API_KEY": "gemini-secret-key-789",
}


def _read_only_dir(tmp_path: Path) -> Path:
    """A directory this process cannot write: chmod for a normal user; sysfs for root (root
    ignores permission bits, not a kernel filesystem)."""
    if os.geteuid() == 0:
        return Path("/sys/kernel")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return locked


@pytest.mark.parametrize("where", ["read-only", "under-a-file"])
def test_an_unwritable_data_dir_stops_the_start_with_one_line(tmp_path: Path, where: str) -> None:
    if where == "read-only":
        data_dir = _read_only_dir(tmp_path)
    else:
        (tmp_path / "a-file").write_text("not a directory")
        data_dir = tmp_path / "a-file" / "data"
    result = run_bot(tmp_path, DISCORD_TOKEN="discord-secret-token-abc", DATA_DIR=str(data_dir))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Not started: DATA_DIR {data_dir} is not writable")
    assert "Traceback" not in result.stderr
    assert "discord-secret-token-abc" not in result.stderr


def test_check_with_every_key_set_prints_none_of_them(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "check", **SECRETS)
    assert result.returncode == 0, result.stderr
    shown = result.stdout + result.stderr
    assert shown.strip()
    for name, secret in SECRETS.items():
        assert secret not in shown, name
        assert secret[-6:] not in shown, f"a tail of {name} leaked"


def test_production_settings_never_allow_private_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XAI_BASE_URL", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert not _is_private(settings.xai_base_url)
    assert _is_private("http://127.0.0.1:8080/v1"), "only a loopback stand-in opens them"


@pytest.mark.parametrize(
    "url",
    [
        "http://vidgen.x.ai/file.mp4",
        "https://127.0.0.1/file.mp4",
        "https://10.0.0.5/file.mp4",
        "https://[::1]/file.mp4",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/file.mp4",
        "file:///etc/passwd",
    ],
)
async def test_a_download_url_outside_public_https_is_refused_in_production(url: str) -> None:
    with pytest.raises(ProviderError):
        await check_url(url, "xai")


@pytest.mark.parametrize("action", SceneButton.ACTIONS)
@pytest.mark.parametrize("scene_id", [1, 1234, MAX_SCENE_ID])
async def test_scene_button_custom_ids_round_trip_under_100_characters(
    action: str, scene_id: int
) -> None:
    custom_id = SceneButton(action, scene_id).custom_id
    assert len(custom_id) <= 100
    match = SceneButton.__discord_ui_compiled_template__.fullmatch(custom_id)
    assert match is not None
    back = await SceneButton.from_custom_id(None, None, match)  # type: ignore[arg-type]
    assert (back.action, back.scene_id) == (action, scene_id)


@pytest.mark.parametrize("story_id", [1, 1234, MAX_SCENE_ID])
async def test_delete_button_custom_ids_round_trip_and_are_ours(story_id: int) -> None:
    custom_id = DeleteButton(story_id).custom_id
    assert len(custom_id) <= 100
    assert is_ours(custom_id)
    match = DeleteButton.__discord_ui_compiled_template__.fullmatch(custom_id)
    assert match is not None
    back = await DeleteButton.from_custom_id(None, None, match)  # type: ignore[arg-type]
    assert back.story_id == story_id


@pytest.mark.parametrize(
    "custom_id",
    ["scene:regen:x", f"scene:animate:{MAX_SCENE_ID + 1}", "scene:drop:1", "scene:regen:1:2"],
)
async def test_a_forged_scene_custom_id_never_parses_as_a_real_scene(custom_id: str) -> None:
    match = SceneButton.__discord_ui_compiled_template__.fullmatch(custom_id)
    assert match is not None, "forged ids are caught, so that they get an answer"
    back = await SceneButton.from_custom_id(None, None, match)  # type: ignore[arg-type]
    assert back.scene_id == NO_SCENE
