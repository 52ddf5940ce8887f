"""DiscordStandin: the loopback Discord (REST + gateway + CDN) and the API tests drive it with.

async with DiscordStandin() as standin:
    point_discord_at(standin.api_base_url, standin.gateway_url)  # what the bot does at start
    async with running(bot, standin):  # tests.fakes.discord.fixtures
        ix = await standin.slash("story", "start", options={"premise": "A fox"})
        scene = await ix.wait_for_final()
        await standin.click(scene, "scene:regen:1")
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

from tests.conformance.traffic import Conformance
from tests.fakes.discord.actions import MemberActions
from tests.fakes.discord.gateway import HEARTBEAT, INVALID_SESSION, RECONNECT, Gateway
from tests.fakes.discord.http_support import (
    API_PREFIX,
    Fault,
    discord_errata,
    discord_lenient,
    recording_middleware,
)
from tests.fakes.discord.model import (
    BOOST_UPLOAD_LIMITS,
    JSON,
    Channel,
    Guild,
    RecordedRequest,
    StoredMessage,
    User,
)
from tests.fakes.discord.records import DEFAULT_TIMEOUT
from tests.fakes.discord.routes_channels import ChannelRoutes
from tests.fakes.discord.routes_interactions import InteractionRoutes
from tests.fakes.discord.routes_misc import MiscRoutes
from tests.fakes.discord.state import State

DEFAULT_TOKEN = "standin.bot.token"


class DiscordStandin(MemberActions):
    """Discord API v10 on 127.0.0.1: start it, point discord.py at it, drive it from tests."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        guilds: int = 2,
        heartbeat_interval_ms: int = 41_250,
        ack_deadline: float = 3.0,
        token_ttl: float = 15 * 60,
    ) -> None:
        self.state = State(token=token, guild_count=guilds)
        self.errors: list[BaseException] = []  # the stand-in's own crashes; should stay empty
        self.gateway = Gateway(self.state, heartbeat_interval_ms, self.errors)
        self.ack_deadline = ack_deadline
        self.token_ttl = token_ttl
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        # Held to Discord's OpenAPI spec (tests/conformance). What discord.py sends leniently and
        # the API accepts (integer attachment ids, `1` booleans) passes (docs/RELIABILITY.md).
        self.conformance = Conformance(
            "discord",
            API_PREFIX,
            normalize=discord_lenient,
            lenient_booleans=True,
            errata=discord_errata,
        )
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> DiscordStandin:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.state.base_url = f"http://127.0.0.1:{self.port}"
        self.gateway.resume_url = f"ws://127.0.0.1:{self.port}/gateway/resume"
        state = self.state
        middleware = recording_middleware(
            self.requests, self.faults, state.token, state.watch, self.errors
        )
        app = web.Application(
            middlewares=[self.conformance.middleware(), middleware],
            client_max_size=512 * 1024 * 1024,  # oversize uploads must reach the 413 check
        )
        announce = ChannelRoutes(state, self.gateway.dispatch)
        app.add_routes(announce.routes())
        interactions = InteractionRoutes(
            state, announce.announce, self.ack_deadline, self.token_ttl
        )
        app.add_routes(interactions.routes())
        app.add_routes(MiscRoutes(state, self.gateway_url, self.gateway.rules).routes())
        app.add_routes([web.get("/gateway", self.gateway.handle)])
        app.add_routes([web.get("/gateway/resume", self.gateway.handle)])
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        return self

    async def close(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordStandin:
        return await self.start()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
        if exc is None:
            self.conformance.assert_clean()

    # --- where and who -----------------------------------------------------------------------

    @property
    def api_base_url(self) -> str:
        """For DISCORD_API_BASE_URL."""
        return f"{self.state.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """For DISCORD_GATEWAY_URL."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def application_id(self) -> int:
        return self.state.application_id

    @property
    def bot(self) -> User:
        return self.state.bot

    @property
    def guilds(self) -> list[Guild]:
        return list(self.state.guilds.values())

    @property
    def guild(self) -> Guild:
        """The first guild; `guilds[1]` is there for cross-guild tests."""
        return self.guilds[0]

    @property
    def channel(self) -> Channel:
        return self.guild.text_channel

    def add_guild(self, name: str, *, shard: tuple[int, int] | None = None) -> Guild:
        """Another guild with the bot in it, before the client connects (its GUILD_CREATE comes
        with READY); `shard=(id, count)` puts it on that shard."""
        return self.state.add_guild(name, shard)

    def add_user(
        self, username: str, guild: Guild | None = None, *, ident: int | None = None
    ) -> User:
        """A member of `guild` (default: of every guild), with a fresh or the given id."""
        return self.state.add_user(username, guild, ident=ident)

    def set_upload_limit(self, guild: Guild, limit: int) -> None:
        """Per-file upload limit; also what `attachment_size_limit` and the boost tier say."""
        guild.upload_limit = limit

    def set_boost_tier(self, guild: Guild, tier: int) -> None:
        """Server boost level 0-3: `premium_tier` in GUILD_CREATE and the upload limit it brings
        (10, 10, 50 or 100 MiB)."""
        guild.boost_tier = tier
        guild.upload_limit = BOOST_UPLOAD_LIMITS[tier]

    # --- what the bot did --------------------------------------------------------------------

    def requests_to(self, method: str, path_regex: str) -> list[RecordedRequest]:
        """Recorded requests whose method matches (or `*`) and whose path fully matches."""
        pattern = re.compile(path_regex)
        return [
            r
            for r in self.requests
            if method in ("*", r.method) and pattern.fullmatch(r.path) is not None
        ]

    @property
    def unexpected(self) -> list[RecordedRequest]:
        """Requests no route knows: the bot called something the stand-in does not serve."""
        return [r for r in self.requests if not r.matched]

    def message(self, message_id: int) -> StoredMessage:
        return self.state.messages[message_id]

    def messages_in(self, channel: Channel | None = None) -> list[StoredMessage]:
        """Visible (not ephemeral, not deleted) messages of a channel, oldest first."""
        wanted = (channel or self.channel).id
        return [
            m
            for m in self.state.messages.values()
            if m.channel_id == wanted and not m.ephemeral and not m.deleted
        ]

    def commands(self, guild: Guild | None = None) -> list[JSON]:
        """The synced commands, global (no guild) or of that guild."""
        return self.state.commands.listing(None if guild is None else guild.id)

    def command_syncs(self, guild: Guild | None = None) -> int:
        registry = self.state.commands
        return registry.global_syncs if guild is None else registry.guild_syncs.get(guild.id, 0)

    async def until(
        self, predicate: Callable[[], bool], within: float = DEFAULT_TIMEOUT, what: str = ""
    ) -> None:
        """Wait until `predicate()` holds; it is re-checked after every request and gateway op."""
        await self.state.watch.until(predicate, within, what or "for a condition")

    async def wait_for_request(
        self, method: str, path_regex: str, count: int = 1, within: float = DEFAULT_TIMEOUT
    ) -> RecordedRequest:
        """The `count`-th answered request matching; returns the latest one."""

        def answered() -> list[RecordedRequest]:
            return [r for r in self.requests_to(method, path_regex) if r.status]

        await self.until(lambda: len(answered()) >= count, within, f"for {method} {path_regex}")
        return answered()[-1]

    # --- faults ------------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        times: int | None = 1,
        retry_after: float = 0.05,
        is_global: bool = False,
        delay: float = 0.0,
    ) -> Fault:
        """The next `times` matching requests (None: all) get `status` — 429 with retry_after,
        5xx — instead of their answer. Path as recorded (without /api/v10), fully matched."""
        fault = Fault(
            method.upper(), re.compile(path_regex), status, times, retry_after, is_global, delay
        )
        self.faults.append(fault)
        return fault

    def slow(self, method: str, path_regex: str, seconds: float, *, times: int | None = 1) -> Fault:
        """Answer matching requests normally, but only after `seconds`."""
        return self.fail(method, path_regex, 0, times=times, delay=seconds)

    # --- gateway controls --------------------------------------------------------------------

    async def wait_until_connected(self, within: float = DEFAULT_TIMEOUT) -> None:
        """A client identified (or resumed) and has its READY and GUILD_CREATEs."""
        await self.until(lambda: self.gateway.connected, within, "for a gateway session")

    async def drop_gateway(self, code: int | None = None) -> None:
        """Cut the gateway connection (None: no close frame, like a network drop); the client
        reconnects to READY's resume_gateway_url and RESUMEs. Events sent meanwhile are replayed."""
        await self.gateway.drop(code)

    async def request_reconnect(self) -> None:
        """Opcode 7 RECONNECT, as Discord sends before moving a session."""
        await self.gateway.send_op(RECONNECT)

    async def request_heartbeat(self) -> None:
        await self.gateway.send_op(HEARTBEAT)

    async def invalidate_session(self, resumable: bool = False) -> None:
        """Opcode 9; not resumable: the client IDENTIFYs afresh, at its DEFAULT_GATEWAY."""
        await self.gateway.send_op(INVALID_SESSION, resumable)
