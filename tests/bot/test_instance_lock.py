import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.instance_lock import DataDirInUse, hold_data_dir

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_holder_of_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    with (
        hold_data_dir(tmp_path),
        pytest.raises(DataDirInUse, match=str(os.getpid())),
        hold_data_dir(tmp_path),
    ):
        pass


def test_the_lock_is_free_again_once_released(tmp_path: Path) -> None:
    with hold_data_dir(tmp_path):
        pass
    with hold_data_dir(tmp_path):
        pass


def test_a_second_bot_process_on_the_same_data_dir_refuses_to_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    env |= {"PYTHONPATH": str(ROOT), "DISCORD_TOKEN": "t", "DATA_DIR": str(data)}
    with hold_data_dir(data):
        result = subprocess.run(
            [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert "run one bot per DATA_DIR" in result.stderr
    assert "Traceback" not in result.stderr
