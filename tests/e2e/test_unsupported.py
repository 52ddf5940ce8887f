"""What this version does not know (SPEC §10): a command a stale client still offers, a command
from a DM, a button whose custom_id is not ours. Each is answered ephemerally with what to use
instead: never Discord's "This interaction failed", never an ERROR traceback in the log."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.harness import Harness
from tests.e2e.helpers import PREMISE, image_calls, press_forged_button, refusal_text

STRICT_QUOTA = True


def _no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert loud == [], [r.getMessage() for r in loud]


@pytest.mark.parametrize(
    ("names", "options"),
    [(("poem",), {}), (("story", "rewind"), {"to": 2}), (("stats",), {"public": True})],
    ids=["unknown-command", "unknown-subcommand", "unknown-with-options"],
)
async def test_a_command_this_version_never_registered_says_what_to_use(
    harness: Harness,
    caplog: pytest.LogCaptureFixture,
    names: tuple[str, ...],
    options: dict[str, str | int | bool],
) -> None:
    await harness.start()
    ix = await harness.discord.stale_slash(*names, options=options)
    text = await refusal_text(ix)
    assert f"/{' '.join(names)}" in text, "it names what is not supported"
    assert "/story start" in text, "and what to use instead"
    assert image_calls(harness) == 0
    _no_errors_logged(caplog)


@pytest.mark.parametrize(
    ("names", "options"),
    [(("story", "start"), {"premise": PREMISE}), (("story", "continue"), {}), (("usage",), {})],
    ids=["story-start", "story-continue", "usage"],
)
async def test_a_command_from_a_dm_is_refused_pointing_to_a_server(
    harness: Harness,
    caplog: pytest.LogCaptureFixture,
    names: tuple[str, ...],
    options: dict[str, str],
) -> None:
    await harness.start()
    ix = await harness.discord.slash(*names, options=options, dm=True)
    text = await refusal_text(ix)
    assert "server" in text
    assert "/story start" in text
    assert image_calls(harness) == 0
    _no_errors_logged(caplog)


@pytest.mark.parametrize(
    "custom_id",
    ["story:regen:1", "regen", "v2|scene|1|regen", "scene", "scene:regen", "x" * 100],
    ids=["old-prefix", "bare-word", "other-format", "prefix-only", "missing-id", "overlong"],
)
async def test_a_button_whose_custom_id_is_not_ours_is_answered_with_what_to_use(
    harness: Harness, caplog: pytest.LogCaptureFixture, custom_id: str
) -> None:
    await harness.start()
    assert "/story continue" in await press_forged_button(harness, custom_id)
    _no_errors_logged(caplog)


async def test_autocomplete_from_a_dm_offers_nothing_and_logs_no_error(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.start()
    choices = await harness.discord.autocomplete("story", "start", focused="model", dm=True)
    assert choices == []
    _no_errors_logged(caplog)
