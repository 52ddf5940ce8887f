from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.harness import Harness, harness_for
from tests.e2e.invariants import assert_invariants
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


@pytest.fixture
async def invariants(harness: Harness, request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    """After the test, assert what every fault must leave behind (docs/RELIABILITY.md): nothing
    left thinking, every provider video job held by exactly one job row, no quota charged for a
    failed generation, a database that passes PRAGMA integrity_check. Every end-to-end test gets
    it; a module with `STRICT_QUOTA = True` (no story is deleted there) also asserts that the
    pictures charged are exactly the pictures drawn, and one with `DELETES_STORIES = True` lets
    the job rows of deleted stories go."""
    yield harness
    await assert_invariants(
        harness,
        strict_quota=getattr(request.module, "STRICT_QUOTA", False),
        deletes_stories=getattr(request.module, "DELETES_STORIES", False),
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names: list[str] = getattr(item, "fixturenames", [])
        if "harness" in names and "invariants" not in names:
            names.append("invariants")
