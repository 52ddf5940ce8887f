"""A real PostgreSQL for the tests: `initdb` + `pg_ctl` in a temp dir, once per session.

initdb refuses to run as root, so as root the server runs as the `postgres` user (which
Debian's `postgresql` package creates) through runuser. It listens on 127.0.0.1 on a free
port with its socket in the temp dir. Each test gets a schema of its own, named in the URL
(`?search_path=…`, which asyncpg sends as a server setting): creating a schema costs
nothing, where CREATE DATABASE copies a template each time.
Without the binaries the tests that need it skip with a line naming the package, except
under CI (CI=true), where that is a failure: the suite must not go quietly thinner.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

USER = "storybot"
MISSING = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package "
    "`postgresql` (tools/system-packages.sh does it when run as root)"
)
# A throwaway server: durability settings off make initdb and every commit fast.
FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def server_binaries() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin with pg_ctl (Debian), else pg_ctl on PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True)
class PostgresServer:
    """A running server; `url(schema)` addresses a schema of its one database."""

    bin_dir: Path
    root: Path
    port: int
    run_as: tuple[str, ...]

    def url(self, schema: str | None = None) -> str:
        base = f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"
        return base if schema is None else f"{base}?search_path={schema}"

    def pg_ctl(self, *args: str) -> None:
        command = [*self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data")]
        subprocess.run([*command, *args], check=True, capture_output=True)  # noqa: S603 - fixed argv

    def stop(self) -> None:
        """Stop the server and delete its files."""
        try:
            self.pg_ctl("-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    async def create_schema(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        await self._run(f"CREATE SCHEMA {name}")
        return name

    async def drop_schema(self, name: str) -> None:
        await self._run(f"DROP SCHEMA IF EXISTS {name} CASCADE")

    async def _run(self, statement: str) -> None:
        conn = await asyncpg.connect(self.url(), timeout=10)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()


def start_server(bin_dir: Path) -> PostgresServer:
    """initdb a temp dir and start a server on a free port (the fixture and the benchmark)."""
    root = Path(tempfile.mkdtemp(prefix="storybot-pg-"))
    run_as: tuple[str, ...] = ()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        run_as = ("runuser", "-u", "postgres", "--")
    initdb = [str(bin_dir / "initdb"), "-D", str(root / "data"), "-A", "trust", "-U", USER]
    subprocess.run(  # noqa: S603 - fixed argv
        [*run_as, *initdb, "--no-sync", "-E", "UTF8", "--locale=C"],
        check=True,
        capture_output=True,
    )
    for _ in range(5):  # another program may take the free port between probe and start
        server = PostgresServer(bin_dir, root, _free_port(), run_as)
        options = f"-k {root} -c listen_addresses=127.0.0.1 -p {server.port} {FAST}"
        try:
            server.pg_ctl("-l", str(root / "log"), "-w", "-o", options, "start")
        except subprocess.CalledProcessError:
            continue
        return server
    raise RuntimeError(f"PostgreSQL did not start; see {root / 'log'}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One server for the whole session, stopped and deleted at its end."""
    bin_dir = server_binaries()
    if bin_dir is None:
        if os.environ.get("CI") == "true":
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    server = start_server(bin_dir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def postgres_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A fresh, empty schema of its own for one test."""
    name = await postgres_server.create_schema()
    yield postgres_server.url(name)
    await postgres_server.drop_schema(name)
