"""What every provider stand-in shares: an aiohttp app on 127.0.0.1 at a free port, closed
with `async with`, and delays that end at once when the server closes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from types import TracebackType
from typing import Self

from aiohttp import web
from aiohttp.typedefs import Middleware

from tests.conformance.traffic import Conformance

MAX_BODY = 256 * 1024 * 1024


class LoopbackServer:
    """Subclasses add their routes (and middlewares) in `build`."""

    def __init__(self, conformance: Conformance | None = None) -> None:
        self.conformance = conformance  # the official spec this stand-in is held to, if any
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def build(self, app: web.Application) -> None:
        raise NotImplementedError

    def middlewares(self) -> list[Middleware]:
        return []

    async def start(self) -> None:
        checks = [self.conformance.middleware()] if self.conformance is not None else []
        app = web.Application(client_max_size=MAX_BODY, middlewares=[*checks, *self.middlewares()])
        self.build(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        self._closing.set()  # ends every pending delay at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
        if exc is None and self.conformance is not None:
            self.conformance.assert_clean()

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)
