"""Storage fixtures. `storage` runs every test that takes it against both backends (the
contract suite, as Red-DiscordBot's driver tests do); a module can pin `backend`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Storage
from tests.storage.builders import FakeClock

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """None for SQLite under DATA_DIR; a fresh PostgreSQL database otherwise."""
    if backend == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def storage(
    data_dir: Path, clock: FakeClock, database_url: str | None
) -> AsyncIterator[Storage]:
    opened = await Storage.open(data_dir, clock=clock, database_url=database_url)
    yield opened
    await opened.close()


@pytest.fixture
async def second_storage(
    tmp_path: Path, storage: Storage, clock: FakeClock, database_url: str | None
) -> AsyncIterator[Storage]:
    """Another connection to the same database, as a second process would have (with
    PostgreSQL, with a DATA_DIR of its own)."""
    data_dir = tmp_path / ("data" if database_url is None else "data-2")
    opened = await Storage.open(data_dir, clock=clock, database_url=database_url)
    yield opened
    await opened.close()


@pytest.fixture
async def sqlite_storage(data_dir: Path, clock: FakeClock) -> AsyncIterator[Storage]:
    """For the few tests of SQLite's own mechanics (query plans, pragmas, files)."""
    opened = await Storage.open(data_dir, clock=clock)
    yield opened
    await opened.close()
