"""Real headless Chromium for tests, driven over the DevTools protocol (a websocket through
aiohttp): load a page, collect console errors and failed loads, run checks in the page, take a
screenshot. Chromium comes from the Debian package `chromium`; without it the test skips,
except under CI (CI=true), where it fails (tools/system-packages.sh installs it there)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import shutil
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",  # refused as root otherwise
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--remote-debugging-port=0",
)
START_WITHIN = 30.0  # seconds for Chromium to open its DevTools port
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


def chromium_or_skip() -> str:
    """The browser's path; skips (fails under CI) when the package is missing."""
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found:
        return found
    message = "needs headless Chromium: install the Debian package `chromium`"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI never skips; tools/system-packages.sh installs it)")
    pytest.skip(message)


@dataclass
class Page:
    """One tab: what it logged, and a way to run JavaScript in it."""

    browser: Browser
    session: str
    errors: list[str] = field(default_factory=list)
    loaded: asyncio.Event = field(default_factory=asyncio.Event)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        return await self.browser.call(method, session=self.session, **params)

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of an expression (a promise is awaited)."""
        answer = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in answer:
            raise AssertionError(f"the page's script failed: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    async def screenshot(self, path: Path) -> Path:
        """The whole page as a PNG."""
        metrics = await self.call("Page.getLayoutMetrics")
        size = metrics["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = await self.call(
            "Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip
        )
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))
        return path

    def on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Page.loadEventFired":
            self.loaded.set()
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            texts = [str(arg.get("value", arg.get("description", ""))) for arg in params["args"]]
            self.errors.append(f"console.{params['type']}: {' '.join(texts)}")
        elif method == "Runtime.exceptionThrown":
            self.errors.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}")


class Browser:
    """A DevTools connection to one Chromium process."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._pages: dict[str, Page] = {}
        self._reader = asyncio.create_task(self._read())

    async def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        answer = asyncio.get_running_loop().create_future()
        self._waiting[ident] = answer
        await self._ws.send_json(message)
        return await asyncio.wait_for(answer, 60)

    async def open(self, url: str) -> Page:
        """A new phone-sized tab that has loaded `url` (its load event fired)."""
        target = await self.call("Target.createTarget", url="about:blank")
        attached = await self.call(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        page = Page(self, attached["sessionId"])
        self._pages[page.session] = page
        for domain in ("Page", "Runtime", "Log"):
            await page.call(f"{domain}.enable")
        await page.call("Emulation.setDeviceMetricsOverride", **PHONE)
        await page.call("Page.navigate", url=url)
        await asyncio.wait_for(page.loaded.wait(), 30)
        return page

    async def _read(self) -> None:
        async for message in self._ws:
            data = message.json()
            if "id" in data:
                answer = self._waiting.pop(data["id"])
                if "error" in data:
                    answer.set_exception(AssertionError(f"DevTools: {data['error']}"))
                else:
                    answer.set_result(data.get("result", {}))
            elif (page := self._pages.get(data.get("sessionId", ""))) is not None:
                page.on_event(data["method"], data.get("params", {}))

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self._ws.close()


def _port_written(profile: Path) -> int | None:
    marker = profile / "DevToolsActivePort"
    lines = marker.read_text().splitlines() if marker.exists() else []
    return int(lines[0]) if lines else None


async def _devtools_port(profile: Path, process: asyncio.subprocess.Process) -> int:
    """Chromium writes the port it chose into DevToolsActivePort in its profile."""
    for _ in range(int(START_WITHIN / 0.05)):
        if process.returncode is not None:
            raise AssertionError(f"Chromium exited with {process.returncode}")
        port = await asyncio.to_thread(_port_written, profile)
        if port is not None:
            return port
        await asyncio.sleep(0.05)
    raise AssertionError(f"Chromium opened no DevTools port within {START_WITHIN:g} s")


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Stop Chromium: the browser process first (it reaps its renderers), then whatever of its
    process group is left."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


@contextlib.asynccontextmanager
async def chromium(tmp_path: Path) -> AsyncIterator[Browser]:
    """A fresh headless Chromium (its own profile under `tmp_path`), stopped afterwards."""
    binary = chromium_or_skip()
    profile = tmp_path / "chromium-profile"
    await asyncio.to_thread(profile.mkdir)
    process = await asyncio.create_subprocess_exec(
        binary,
        *FLAGS,
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,  # dbus noise in containers; errors come over DevTools
        start_new_session=True,  # its own process group, so the renderers stop with it
    )
    try:
        port = await _devtools_port(profile, process)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/version") as response:
                endpoint = (await response.json())["webSocketDebuggerUrl"]
            async with http.ws_connect(endpoint, max_msg_size=0) as ws:
                browser = Browser(ws)
                try:
                    yield browser
                finally:
                    await browser.close()
    finally:
        await _stop(process)
