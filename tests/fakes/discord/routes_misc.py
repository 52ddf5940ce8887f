"""Identity, application commands, gateway discovery and the CDN."""

from __future__ import annotations

from aiohttp import web

from tests.fakes.discord import payloads
from tests.fakes.discord.http_support import (
    API_PREFIX,
    DiscordError,
    body_of,
    form_error,
    json_response,
)
from tests.fakes.discord.sharding import ShardRules
from tests.fakes.discord.state import State


class MiscRoutes:
    def __init__(self, state: State, gateway_url: str, rules: ShardRules) -> None:
        self.state = state
        self.gateway_url = gateway_url
        self.rules = rules

    def routes(self) -> list[web.RouteDef]:
        app = f"{API_PREFIX}/applications/{{app_id}}"
        return [
            web.get(f"{API_PREFIX}/users/@me", self.me),
            web.get(f"{API_PREFIX}/oauth2/applications/@me", self.application),
            web.get(f"{API_PREFIX}/applications/@me", self.application),
            web.get(f"{API_PREFIX}/gateway", self.gateway),
            web.get(f"{API_PREFIX}/gateway/bot", self.gateway_bot),
            web.get(f"{app}/commands", self.list_commands),
            web.put(f"{app}/commands", self.sync_commands),
            web.get(f"{app}/guilds/{{guild_id}}/commands", self.list_commands),
            web.put(f"{app}/guilds/{{guild_id}}/commands", self.sync_commands),
            web.get("/attachments/{channel_id}/{attachment_id}/{filename}", self.cdn),
            web.get("/ephemeral-attachments/{channel_id}/{attachment_id}/{filename}", self.cdn),
        ]

    async def me(self, request: web.Request) -> web.Response:
        return json_response(
            {
                **payloads.user(self.state.bot),
                "verified": True,
                "mfa_enabled": False,
                "locale": "en-US",
            }
        )

    async def application(self, request: web.Request) -> web.Response:
        state = self.state
        return json_response(payloads.application(state.application_id, state.bot, state.owner))

    async def gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        return json_response(self.rules.gateway_bot(self.gateway_url))

    def _scope(self, request: web.Request) -> int | None:
        if request.match_info["app_id"] != str(self.state.application_id):
            raise DiscordError(403, 50001, "Missing Access")
        raw = request.match_info.get("guild_id")
        if raw is None:
            return None
        if not raw.isdigit() or int(raw) not in self.state.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        return int(raw)

    async def list_commands(self, request: web.Request) -> web.Response:
        return json_response(self.state.commands.listing(self._scope(request)))

    async def sync_commands(self, request: web.Request) -> web.Response:
        guild_id = self._scope(request)
        submitted = body_of(request).json
        if not isinstance(submitted, list):
            raise form_error("_", "LIST_TYPE_CONVERT", "Must be a list.")
        if len(submitted) > 100:
            raise form_error("_", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        state = self.state
        stored = state.commands.overwrite(guild_id, submitted, state.application_id, state.ids)
        return json_response(stored)

    async def cdn(self, request: web.Request) -> web.Response:
        raw_id = request.match_info["attachment_id"]
        found = self.state.attachments.get(int(raw_id)) if raw_id.isdigit() else None
        if (
            found is None
            or found.gone
            or found.filename != request.match_info["filename"]
            or str(found.channel_id) != request.match_info["channel_id"]
        ):
            return web.Response(status=404, text="This content is no longer available.")
        return web.Response(
            body=found.data, content_type=found.content_type or "application/octet-stream"
        )
