"""The storybook's web server (SPEC §12): aiohttp in the bot's own event loop, started and stopped
with the bot. Every URL carries an HMAC signature over what it opens; a wrong signature, another
guild's story, a missing scene and an unknown path all get the same 404, so nothing tells whether
a story exists."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.book.links import Links
from bot.book.page import PageScene, render_page
from bot.book.service import Outline, StorybookService
from bot.settings import Settings

log = logging.getLogger(__name__)

ALL_INTERFACES: Final = "0.0.0.0"  # noqa: S104 - members reach it through WEB_BASE_URL
_SIGNATURE = r"{signature:[0-9a-f]{32}}"
# Row ids: ASCII digits that fit 64 bits. `\d+` also takes other scripts' digits, and a number
# past int()'s 4,300-digit limit made a server error where every miss must be the same 404.
_ID = r"[0-9]{1,19}"
_PAGE_CSP = (
    "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS: Final = {
    "Referrer-Policy": "no-referrer",  # signed URLs never leave in a Referer header
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, max-age=300",
}


class WebPortUnavailable(Exception):
    """WEB_PORT cannot be listened on: another process holds it, or it needs privileges."""

    def __init__(self, port: int, reason: str) -> None:
        super().__init__(f"the storybook web server cannot listen on WEB_PORT {port} ({reason})")


@dataclass(frozen=True, slots=True)
class WebConfig:
    port: int
    links: Links


def web_config(settings: Settings) -> tuple[WebConfig | None, str]:
    """The web server's settings, or None and why it stays off (for `check` and the log)."""
    if not settings.web_base_url:
        return None, "off (WEB_BASE_URL is not set)"
    secret = settings.web_secret.get_secret_value() if settings.web_secret else ""
    if not secret:
        return None, "off: WEB_SECRET is not set, so links could not be signed"
    if settings.web_port is None:
        return None, "off: WEB_PORT is not set"
    config = WebConfig(settings.web_port, Links(settings.web_base_url, secret))
    return config, f"on, port {settings.web_port}, links {config.links.base_url}/book/…"


def _media_response(request: web.Request, data: bytes, content_type: str) -> web.Response:
    """The whole file, or the one byte range a player asked for: players fetch videos in
    ranges to seek, and Safari plays video only from a server that answers them."""
    headers = {"Accept-Ranges": "bytes"}
    try:
        wanted = request.http_range if "Range" in request.headers else None
    except ValueError:  # a Range header we do not understand is ignored (RFC 9110 §14.2)
        wanted = None
    if wanted is None:
        return web.Response(body=data, content_type=content_type, headers=headers)
    start, stop, _ = wanted.indices(len(data))
    if start >= stop:
        headers["Content-Range"] = f"bytes */{len(data)}"
        return web.Response(status=416, headers=headers)
    headers["Content-Range"] = f"bytes {start}-{stop - 1}/{len(data)}"
    body = data[start:stop]
    return web.Response(status=206, body=body, content_type=content_type, headers=headers)


def _not_found() -> web.Response:
    return web.Response(status=404, text="Not found", headers=_HEADERS)


@web.middleware
async def _uniform(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One answer for every miss, and the same safety headers on every answer."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status in (404, 405):
            return _not_found()
        raise
    response.headers.update(_HEADERS)
    return response


class BookServer:
    """The routes, over the storybook service and the link signer."""

    def __init__(self, books: StorybookService, config: WebConfig, host: str = ALL_INTERFACES):
        self.books = books
        self.links = config.links
        self.host = host
        self.port = config.port
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_uniform])
        story = rf"{{guild:{_ID}}}/{{story:{_ID}}}"
        app.router.add_get(rf"/book/{story}/{_SIGNATURE}", self._page)
        media = rf"/media/{story}/{{scene:{_ID}}}/{{kind:picture|video}}/{_SIGNATURE}"
        app.router.add_get(media, self._media)
        app.router.add_get(rf"/film/{story}/{_SIGNATURE}.mp4", self._film)
        return app

    async def start(self) -> None:
        runner = web.AppRunner(self.app(), access_log=None)  # signed URLs stay out of logs
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise WebPortUnavailable(self.port, exc.strerror or str(exc)) from exc
        self._runner = runner
        if self.port == 0:  # an ephemeral port (tests): remember which one
            self.port = runner.addresses[0][1]
        log.info("storybook web server on port %d", self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _outline(self, request: web.Request, *signed: object) -> Outline | None:
        guild, story = int(request.match_info["guild"]), int(request.match_info["story"])
        if not self.links.valid(request.match_info["signature"], *signed, guild, story):
            return None
        return await self.books.outline(guild, story)

    async def _page(self, request: web.Request) -> web.StreamResponse:
        outline = await self._outline(request, "page")
        if outline is None:
            return _not_found()
        story = outline.story
        scenes = [
            PageScene(
                s.number,
                s.text,
                s.model,
                self.links.media(story.guild_id, story.id, s.scene_id, "picture"),
                s.animated,
                self.links.media(story.guild_id, story.id, s.scene_id, "video")
                if s.animated
                else None,
            )
            for s in outline.scenes
        ]
        animated = any(s.animated for s in outline.scenes)
        film = self.links.film(story.guild_id, story.id) if animated else None
        html = render_page(story.title, scenes, film=film)
        response = web.Response(text=html, content_type="text/html")
        response.headers["Content-Security-Policy"] = _PAGE_CSP
        return response

    async def _media(self, request: web.Request) -> web.StreamResponse:
        kind, scene_id = request.match_info["kind"], int(request.match_info["scene"])
        guild, story = int(request.match_info["guild"]), int(request.match_info["story"])
        if not self.links.valid(request.match_info["signature"], kind, guild, story, scene_id):
            return _not_found()
        data = await self.books.scene_media(guild, story, scene_id, kind)
        if data is None:
            return _not_found()
        content_type = "image/png" if kind == "picture" else "video/mp4"
        return _media_response(request, data, content_type)

    async def _film(self, request: web.Request) -> web.StreamResponse:
        outline = await self._outline(request, "film")
        film = await self.books.film_of(outline) if outline is not None else None
        if film is None:
            return _not_found()
        return _media_response(request, film.mp4, "video/mp4")
