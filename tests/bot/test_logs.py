import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure_logging


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logging")
def test_secrets_never_reach_the_log_output(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", ("discord-token-value", "gsk-custom-secret"))
    log = logging.getLogger("storybot.test")
    log.info("provider said %s", "invalid key discord-token-value")
    try:
        raise RuntimeError("auth failed for gsk-custom-secret and sk-proj-abcdef123456")
    except RuntimeError:
        log.exception("call failed")
    err = capsys.readouterr().err
    assert "provider said invalid key [redacted]" in err
    assert "discord-token-value" not in err
    assert "gsk-custom-secret" not in err
    assert "sk-proj-abcdef123456" not in err
    assert "RuntimeError" in err


@pytest.mark.usefixtures("restore_root_logging")
def test_tracebacks_keep_file_names_while_keys_are_hidden(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", ())
    log = logging.getLogger("storybot.test")
    log.warning(
        "failed in providers/xai_images.py and providers/xai_video.py: key xai-AbCdEf123456 "
        "or AIzaSyA1b2C3d4E5 or sk-ab12cd34ef rejected"
    )
    err = capsys.readouterr().err
    assert "providers/xai_images.py and providers/xai_video.py" in err
    for key in ("xai-AbCdEf123456", "AIzaSyA1b2C3d4E5", "sk-ab12cd34ef"):
        assert key not in err
    assert err.count("[redacted]") == 3
