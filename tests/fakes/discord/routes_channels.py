"""Bot-token REST routes: channels and their messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from tests.fakes.discord import payloads
from tests.fakes.discord.http_support import API_PREFIX, DiscordError, body_of, json_response
from tests.fakes.discord.messages import create_message, edit_message
from tests.fakes.discord.model import (
    ATTACH_FILES,
    JSON,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Channel,
    StoredMessage,
)
from tests.fakes.discord.state import State

Dispatch = Callable[[str, JSON], Awaitable[object]]


class ChannelRoutes:
    def __init__(self, state: State, dispatch: Dispatch) -> None:
        self.state = state
        self.dispatch = dispatch

    def routes(self) -> list[web.RouteDef]:
        base = f"{API_PREFIX}/channels/{{channel_id}}"
        return [
            web.get(base, self.get_channel),
            web.get(f"{base}/messages", self.list_messages),
            web.post(f"{base}/messages", self.post_message),
            web.get(f"{base}/messages/{{message_id}}", self.get_message),
            web.patch(f"{base}/messages/{{message_id}}", self.edit_message),
            web.delete(f"{base}/messages/{{message_id}}", self.delete_message),
        ]

    def _channel(self, request: web.Request) -> Channel:
        found = self.state.channels.get(_snowflake(request.match_info["channel_id"]))
        if found is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return found

    def _message(self, request: web.Request) -> StoredMessage:
        channel = self._channel(request)
        found = self.state.visible_message(channel.id, _snowflake(request.match_info["message_id"]))
        if found is None:
            raise DiscordError(404, 10008, "Unknown Message")
        return found

    def _require(self, channel: Channel, needed: int) -> None:
        if self.state.guilds[channel.guild_id].bot_permissions & needed != needed:
            raise DiscordError(403, 50013, "Missing Permissions")

    async def get_channel(self, request: web.Request) -> web.Response:
        return json_response(payloads.channel(self._channel(request)))

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        limit = min(int(request.query.get("limit", "50")), 100)
        found = [
            self.state.message_payload(m)
            for m in sorted(self.state.messages.values(), key=lambda m: -m.id)
            if self.state.visible_message(channel.id, m.id)
        ]
        return json_response(found[:limit])

    async def post_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body = body_of(request)
        self._require(channel, VIEW_CHANNEL | SEND_MESSAGES | (ATTACH_FILES if body.files else 0))
        message = create_message(
            self.state, channel.id, body.json, body.files, author=self.state.bot
        )
        await self.announce("MESSAGE_CREATE", message)
        return json_response(self.state.message_payload(message))

    async def get_message(self, request: web.Request) -> web.Response:
        return json_response(self.state.message_payload(self._message(request)))

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        if message.author.id != self.state.bot.id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        body = body_of(request)
        if body.files:
            self._require(self.state.channels[message.channel_id], ATTACH_FILES)
        edit_message(self.state, message, body.json, body.files)
        await self.announce("MESSAGE_UPDATE", message)
        return json_response(self.state.message_payload(message))

    async def delete_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        message.deleted = True
        await self.announce("MESSAGE_DELETE", message)
        return web.Response(status=204)

    async def announce(self, event: str, message: StoredMessage) -> None:
        """The gateway event for a visible message (sent with the GUILD_MESSAGES intent)."""
        if message.ephemeral:
            return
        if event == "MESSAGE_DELETE":
            ids = {"id": message.id, "channel_id": message.channel_id, "guild_id": message.guild_id}
            await self.dispatch(event, {k: str(v) for k, v in ids.items()})
            return
        data = self.state.message_payload(message)
        guild = self.state.guilds[message.guild_id]
        if message.author.id in guild.members and message.webhook_id is None:
            data["member"] = payloads.member(guild.members[message.author.id], with_user=False)
        await self.dispatch(event, data)


def _snowflake(raw: str) -> int:
    if not raw.isdigit():
        raise DiscordError(400, 50035, "Invalid Form Body", {"id": "Value is not snowflake."})
    return int(raw)
