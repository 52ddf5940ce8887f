"""What members do, injected through the gateway: slash commands, autocomplete, clicks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tests.fakes.discord.gateway import Gateway
from tests.fakes.discord.ids import interaction_token
from tests.fakes.discord.interactions import (
    Invoker,
    OptionValue,
    command_data,
    component_data,
    interaction_payload,
    stale_command_data,
)
from tests.fakes.discord.model import (
    DM_PERMISSIONS,
    JSON,
    MEMBER_PERMISSIONS,
    Channel,
    Guild,
    StoredMessage,
    Upload,
    User,
)
from tests.fakes.discord.records import InteractionRecord, monotonic
from tests.fakes.discord.state import State

ACK_GRACE = 0.25  # slack on top of the ack deadline before a helper stops waiting


class MemberActions:
    """Mixed into DiscordStandin. `user` is a User or a user id (a member is made on the fly);
    `guild` defaults to the first guild, `channel` to its text channel, `permissions` to a
    plain member's (pass MANAGER_PERMISSIONS for Manage Server)."""

    state: State
    gateway: Gateway
    ack_deadline: float

    async def slash(
        self,
        *names: str,
        options: Mapping[str, OptionValue] | None = None,
        attachments: Mapping[str, Upload] | None = None,
        user: User | int | None = None,
        guild: Guild | None = None,
        channel: Channel | None = None,
        permissions: int = MEMBER_PERMISSIONS,
        locale: str = "en-US",
        wait_ack: bool = True,
        dm: bool = False,
    ) -> InteractionRecord:
        """`/names...` with options, e.g. `slash("story", "start", options={"premise": "..."},
        attachments={"reference": Upload(png, "cat.png")})`; waits for the ack unless told not.
        `dm=True`: sent from the member's DM with the bot (only global commands exist there)."""
        if dm:
            invoker = self._dm_invoker(user, locale)
        else:
            invoker = self._invoker(user, guild, channel, permissions, locale)
        given = {**(options or {}), **(attachments or {})}
        data = command_data(self.state, invoker, names, given)
        return await self._send(invoker, 2, data, None, wait_ack)

    async def stale_slash(
        self,
        *names: str,
        options: Mapping[str, str | int | bool] | None = None,
        user: User | int | None = None,
        guild: Guild | None = None,
    ) -> InteractionRecord:
        """A slash command from an out-of-date client: one the bot never registered (or no
        longer has), with plain options. Waits for the ack."""
        invoker = self._invoker(user, guild, None, MEMBER_PERMISSIONS, "en-US")
        data = stale_command_data(self.state, names, options or {})
        return await self._send(invoker, 2, data, None, True)

    async def autocomplete(
        self,
        *names: str,
        focused: str,
        value: str = "",
        options: Mapping[str, OptionValue] | None = None,
        user: User | int | None = None,
        guild: Guild | None = None,
        channel: Channel | None = None,
        permissions: int = MEMBER_PERMISSIONS,
        locale: str = "en-US",
        dm: bool = False,
    ) -> list[JSON]:
        """The member has typed `value` into option `focused`; returns the bot's choices."""
        if dm:
            invoker = self._dm_invoker(user, locale)
        else:
            invoker = self._invoker(user, guild, channel, permissions, locale)
        given = {**(options or {}), focused: value}
        data = command_data(self.state, invoker, names, given, focused=focused)
        record = await self._send(invoker, 4, data, None, True)
        await record.wait_for_final(self.ack_deadline + ACK_GRACE)
        return record.choices or []

    async def click(
        self,
        message: StoredMessage | int,
        custom_id: str,
        *,
        user: User | int | None = None,
        permissions: int = MEMBER_PERMISSIONS,
        values: Sequence[str] | None = None,
        locale: str = "en-US",
        wait_ack: bool = True,
    ) -> InteractionRecord:
        """The member presses component `custom_id` on `message` (a select takes `values`)."""
        target = message if isinstance(message, StoredMessage) else self.state.messages[message]
        if target.deleted:
            raise LookupError(f"message {target.id} was deleted; nobody can click on it")
        channel = self.state.channels[target.channel_id]
        guild = self.state.guilds[target.guild_id]
        invoker = self._invoker(user, guild, channel, permissions, locale)
        data = component_data(target, custom_id, values)
        return await self._send(invoker, 3, data, target, wait_ack)

    def expire(self, interaction: InteractionRecord) -> None:
        """Age its token past 15 minutes: webhook calls then get 401 (50027)."""
        interaction.expired = True

    def _dm_invoker(self, user: User | int | None, locale: str) -> Invoker:
        """A DM has no guild: the user is looked up (or made) as for the first guild."""
        member = self._invoker(user, None, None, MEMBER_PERMISSIONS, locale).user
        return Invoker(member, None, self.state.dm_with(member), DM_PERMISSIONS, locale)

    def _invoker(
        self,
        user: User | int | None,
        guild: Guild | None,
        channel: Channel | None,
        permissions: int,
        locale: str,
    ) -> Invoker:
        state = self.state
        guild = guild or (
            state.guild_of(channel.id) if channel else next(iter(state.guilds.values()))
        )
        channel = channel or guild.text_channel
        if channel.guild_id != guild.id:
            raise ValueError(f"channel {channel.id} is not in guild {guild.id}")
        if isinstance(user, int):
            user = state.users.get(user) or state.add_user(f"member{user}", guild, ident=user)
        return Invoker(user or state.owner, guild, channel, permissions, locale)

    async def _send(
        self, invoker: Invoker, kind: int, data: JSON, message: StoredMessage | None, wait_ack: bool
    ) -> InteractionRecord:
        if self.gateway.session_for(invoker.guild.id if invoker.guild else None) is None:
            where = f"guild {invoker.guild.id}" if invoker.guild else "a DM"
            raise RuntimeError(f"no gateway session for the shard of {where}: connect it first")
        state = self.state
        ident = state.ids.next()
        token = interaction_token(ident)
        payload = interaction_payload(
            state, invoker, ident=ident, token=token, kind=kind, data=data, message=message
        )
        record = InteractionRecord(
            ident,
            token,
            kind,
            payload,
            invoker.user,
            invoker.guild_id,
            invoker.channel.id,
            monotonic(),
            state.messages,
            state.watch,
            source_message_id=None if message is None else message.id,
        )
        state.interactions[ident] = record
        state.by_token[token] = record
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        if wait_ack:
            await record.wait_for_ack(self.ack_deadline + ACK_GRACE)
        return record
