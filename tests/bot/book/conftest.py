from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.book.links import Links
from bot.book.service import StorybookService
from bot.book.web import BookServer, WebConfig
from providers.models_file import load_catalog
from storage import Storage
from tests.bot.book.builders import Site

SECRET = "web-secret-for-tests"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """The book is built through the storage interface alone: both backends."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def storage(tmp_path: Path, database_url: str | None) -> AsyncIterator[Storage]:
    opened = await Storage.open(tmp_path / "data", database_url=database_url)
    yield opened
    await opened.close()


@pytest.fixture
def links() -> Links:
    return Links("http://127.0.0.1:1", SECRET)


@pytest.fixture
def books(storage: Storage, links: Links) -> StorybookService:
    return StorybookService(storage, load_catalog(None), links)


@pytest.fixture
async def site(books: StorybookService) -> AsyncIterator[Site]:
    """The real web server on an ephemeral loopback port, and a client."""
    server = BookServer(books, WebConfig(0, Links("http://127.0.0.1:0", SECRET)), "127.0.0.1")
    await server.start()
    links = Links(f"http://127.0.0.1:{server.port}", SECRET)
    server.links = links  # the port is known only now
    try:
        async with aiohttp.ClientSession() as http:
            yield Site(server, http, links)
    finally:
        await server.stop()
