from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.harness import Harness, harness_for
from tests.fakes.discord import DiscordStandin
from tests.fakes.gemini_api import GeminiStandin
from tests.fakes.openai_api import OpenAIStandin
from tests.fakes.xai_api import XAIStandin


@pytest.fixture
async def harness(
    discord_standin: DiscordStandin,
    openai_standin: OpenAIStandin,
    xai_standin: XAIStandin,
    gemini_standin: GeminiStandin,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Harness]:
    """Stand-ins up, environment set; call `await harness.start()` after adjusting it."""
    async with harness_for(
        discord_standin, openai_standin, xai_standin, gemini_standin, tmp_path / "data", monkeypatch
    ) as ready:
        yield ready
