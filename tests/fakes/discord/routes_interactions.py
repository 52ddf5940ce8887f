"""Interaction callbacks and the interaction webhook (follow-ups, @original)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from tests.fakes.discord import payloads
from tests.fakes.discord.http_support import (
    API_PREFIX,
    DiscordError,
    body_of,
    form_error,
    json_response,
)
from tests.fakes.discord.messages import create_message, edit_message
from tests.fakes.discord.model import EPHEMERAL, JSON, LOADING, StoredMessage, UploadedFile
from tests.fakes.discord.records import (
    AUTOCOMPLETE_RESULT,
    DEFERRED_MESSAGE,
    DEFERRED_UPDATE,
    MESSAGE,
    MODAL,
    UPDATE_MESSAGE,
    Callback,
    InteractionRecord,
    monotonic,
)
from tests.fakes.discord.state import State

Announce = Callable[[str, StoredMessage], Awaitable[None]]

# Which callback types Discord accepts for each interaction type.
ALLOWED = {
    2: {MESSAGE, DEFERRED_MESSAGE, MODAL},
    3: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
    4: {AUTOCOMPLETE_RESULT},
}
TRUE = ("1", "true", "True")


class InteractionRoutes:
    def __init__(self, state: State, announce: Announce, ack_deadline: float, token_ttl: float):
        self.state = state
        self.announce = announce
        self.ack_deadline = ack_deadline
        self.token_ttl = token_ttl

    def routes(self) -> list[web.RouteDef]:
        hook = f"{API_PREFIX}/webhooks/{{app_id}}/{{token}}"
        return [
            web.post(
                f"{API_PREFIX}/interactions/{{interaction_id}}/{{token}}/callback", self.callback
            ),
            web.post(hook, self.followup),
            web.get(f"{hook}/messages/{{message_id}}", self.get_message),
            web.patch(f"{hook}/messages/{{message_id}}", self.edit_message),
            web.delete(f"{hook}/messages/{{message_id}}", self.delete_message),
        ]

    async def callback(self, request: web.Request) -> web.Response:
        now = monotonic()
        raw = request.match_info["interaction_id"]
        record = self.state.interactions.get(int(raw)) if raw.isdigit() else None
        if record is None or record.token != request.match_info["token"]:
            raise DiscordError(404, 10062, "Unknown interaction")
        if record.callbacks:
            record.rejected.append((now, 40060))
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if now - record.created_at > self.ack_deadline:  # Discord's 3-second window
            record.rejected.append((now, 10062))
            raise DiscordError(404, 10062, "Unknown interaction")
        body = body_of(request)
        kind = int((body.json or {}).get("type", 0))
        data: JSON = dict((body.json or {}).get("data") or {})
        if kind not in ALLOWED.get(record.type, set()):
            raise form_error("type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type.")
        message = await self._perform(record, kind, data, body.files)
        record.callbacks.append(Callback(kind, data, body.files, now))
        if request.query.get("with_response") not in TRUE:
            return web.Response(status=204)
        return json_response(self._callback_answer(record, kind, message))

    async def _perform(
        self, record: InteractionRecord, kind: int, data: JSON, files: tuple[UploadedFile, ...]
    ) -> StoredMessage | None:
        if kind == MESSAGE:
            message = self._new_message(record, data, files)
            record.original_id = message.id
            record.finish(message.id)
            await self.announce("MESSAGE_CREATE", message)
            return message
        if kind == DEFERRED_MESSAGE:
            flags = {"flags": int(data.get("flags") or 0) & EPHEMERAL}
            message = self._new_message(record, flags, (), extra_flags=LOADING)
            record.original_id = message.id
            await self.announce("MESSAGE_CREATE", message)
            return message
        if kind in (DEFERRED_UPDATE, UPDATE_MESSAGE):
            record.original_id = record.source_message_id
            source = record.original
            if kind == UPDATE_MESSAGE and source is not None:
                edit_message(self.state, source, data, files)
                record.finish(source.id)
                await self.announce("MESSAGE_UPDATE", source)
            return source
        if kind == AUTOCOMPLETE_RESULT and len(data.get("choices") or []) > 25:
            raise form_error(
                "data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )
        record.finish(None)  # autocomplete choices or a modal
        return None

    def _new_message(
        self,
        record: InteractionRecord,
        data: JSON,
        files: tuple[UploadedFile, ...],
        extra_flags: int = 0,
    ) -> StoredMessage:
        meta: JSON = {
            "id": str(record.id),
            "type": record.type,
            "user": payloads.user(record.user),
            "authorizing_integration_owners": {"0": str(record.guild_id)},
        }
        if record.source_message_id is not None:
            meta["interacted_message_id"] = str(record.source_message_id)
        return create_message(
            self.state,
            record.channel_id,
            data,
            files,
            author=self.state.bot,
            ephemeral_allowed=True,
            extra_flags=extra_flags,
            webhook_id=self.state.application_id,
            interaction=meta,
            kind=20 if record.type == 2 else 0,
        )

    def _callback_answer(
        self, record: InteractionRecord, kind: int, message: StoredMessage | None
    ) -> JSON:
        answer: JSON = {"interaction": {"id": str(record.id), "type": record.type}}
        if message is not None and kind in (MESSAGE, DEFERRED_MESSAGE, UPDATE_MESSAGE):
            answer["interaction"].update(
                response_message_id=str(message.id),
                response_message_loading=message.loading,
                response_message_ephemeral=message.ephemeral,
            )
        if message is not None and kind in (MESSAGE, UPDATE_MESSAGE):  # never for a deferral
            answer["resource"] = {"type": kind, "message": self.state.message_payload(message)}
        return answer

    def _webhook_record(self, request: web.Request) -> InteractionRecord:
        record = self.state.by_token.get(request.match_info["token"])
        if record is None or request.match_info["app_id"] != str(self.state.application_id):
            raise DiscordError(404, 10015, "Unknown Webhook")
        if record.expired or monotonic() - record.created_at > self.token_ttl:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        if not record.callbacks:  # the token works only once the interaction is acknowledged
            raise DiscordError(404, 10015, "Unknown Webhook")
        return record

    def _target(self, record: InteractionRecord, raw: str) -> StoredMessage:
        if raw == "@original":
            found = record.original
        elif raw.isdigit() and int(raw) in (record.original_id, *record.followup_ids):
            found = self.state.messages.get(int(raw))
        else:
            found = None
        if found is None or found.deleted:
            raise DiscordError(404, 10008, "Unknown Message")
        return found

    async def followup(self, request: web.Request) -> web.Response:
        record = self._webhook_record(request)
        body = body_of(request)
        original = record.original
        placeholder = original is not None and original.loading and not original.deleted
        if record.ack and record.ack.type == DEFERRED_MESSAGE and placeholder:
            # The first follow-up after a "thinking" deferral fills the placeholder; once the
            # placeholder is deleted, a follow-up is a new message with its own flags.
            assert original is not None
            edit_message(self.state, original, body.json, body.files)
            message, event = original, "MESSAGE_UPDATE"
        else:
            message, event = (
                self._new_message(record, body.json or {}, body.files),
                "MESSAGE_CREATE",
            )
        record.followup_ids.append(message.id)
        record.finish(message.id)
        await self.announce(event, message)
        if request.query.get("wait") not in TRUE:
            return web.Response(status=204)
        return json_response(self.state.message_payload(message))

    async def get_message(self, request: web.Request) -> web.Response:
        record = self._webhook_record(request)
        message = self._target(record, request.match_info["message_id"])
        return json_response(self.state.message_payload(message))

    async def edit_message(self, request: web.Request) -> web.Response:
        record = self._webhook_record(request)
        message = self._target(record, request.match_info["message_id"])
        body = body_of(request)
        edit_message(self.state, message, body.json, body.files)
        if message.id == record.original_id:
            record.finish(message.id)
        await self.announce("MESSAGE_UPDATE", message)
        return json_response(self.state.message_payload(message))

    async def delete_message(self, request: web.Request) -> web.Response:
        record = self._webhook_record(request)
        message = self._target(record, request.match_info["message_id"])
        message.deleted = True
        if message.id == record.original_id:
            record.finish(message.id)
        await self.announce("MESSAGE_DELETE", message)
        return web.Response(status=204)
