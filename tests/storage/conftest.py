from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Storage
from tests.storage.builders import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def storage(data_dir: Path, clock: FakeClock) -> AsyncIterator[Storage]:
    opened = await Storage.open(data_dir, clock=clock)
    yield opened
    await opened.close()


@pytest.fixture
async def second_storage(
    data_dir: Path, storage: Storage, clock: FakeClock
) -> AsyncIterator[Storage]:
    """Another connection to the same files, as a second process would have."""
    opened = await Storage.open(data_dir, clock=clock)
    yield opened
    await opened.close()
