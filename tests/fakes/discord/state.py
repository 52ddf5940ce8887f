"""Everything the stand-in knows: bot, guilds, channels, messages, commands, interactions."""

from __future__ import annotations

import copy

from tests.fakes.discord import payloads
from tests.fakes.discord.ids import Snowflakes
from tests.fakes.discord.model import (
    DEFAULT_UPLOAD_LIMIT,
    DM_CHANNEL,
    JSON,
    MEMBER_PERMISSIONS,
    Channel,
    Guild,
    Member,
    Role,
    StoredAttachment,
    StoredMessage,
    Upload,
    UploadedFile,
    User,
)
from tests.fakes.discord.records import InteractionRecord, Watch


class CommandRegistry:
    """Application commands as synced by the bot: global and per guild, with sync counts."""

    def __init__(self) -> None:
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self.global_syncs = 0
        self.guild_syncs: dict[int, int] = {}

    def overwrite(
        self, guild_id: int | None, submitted: list[JSON], app_id: int, ids: Snowflakes
    ) -> list[JSON]:
        """Bulk overwrite: a command keeps its id when name and type stay the same."""
        old = self.listing(guild_id)
        old_ids = {(c["name"], c.get("type", 1)): c["id"] for c in old}
        stored = []
        for command in submitted:
            key = (command["name"], command.get("type", 1))
            stored.append(self._complete(command, old_ids.get(key) or str(ids.next()), app_id))
            if guild_id is not None:
                stored[-1]["guild_id"] = str(guild_id)
        if guild_id is None:
            self.global_commands, self.global_syncs = stored, self.global_syncs + 1
        else:
            self.guild_commands[guild_id] = stored
            self.guild_syncs[guild_id] = self.guild_syncs.get(guild_id, 0) + 1
        return copy.deepcopy(stored)

    def listing(self, guild_id: int | None) -> list[JSON]:
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.get(guild_id, [])

    def find(self, name: str, guild_id: int, kind: int = 1) -> JSON | None:
        """What a member of that guild sees: the guild's command first, then the global one."""
        for command in (*self.guild_commands.get(guild_id, []), *self.global_commands):
            if command["name"] == name and command.get("type", 1) == kind:
                return command
        return None

    @staticmethod
    def _complete(command: JSON, ident: str, app_id: int) -> JSON:
        stored = copy.deepcopy(command)
        stored.update(id=ident, application_id=str(app_id), version=ident)
        stored.setdefault("type", 1)
        stored.setdefault("description", "")
        stored.setdefault("default_member_permissions", None)
        stored.setdefault("nsfw", False)
        stored.setdefault("options", [])
        if stored.get("integration_types") is None:  # Discord answers the default, never null
            stored["integration_types"] = [0]  # GUILD_INSTALL
        return stored


class State:
    """Plain objects; REST routes and the test API both read and change them."""

    def __init__(self, *, token: str, guild_count: int = 2) -> None:
        self.token = token
        self.ids = Snowflakes()
        self.watch = Watch()
        self.base_url = ""  # http://127.0.0.1:PORT, known once the server listens
        self.bot = User(self.ids.next(), "StoryBot", bot=True)
        self.owner = User(self.ids.next(), "owner", "Guild Owner")
        self.application_id = self.bot.id  # as for every bot created since 2020
        self.users: dict[int, User] = {u.id: u for u in (self.bot, self.owner)}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.dms: dict[int, Channel] = {}
        self.messages: dict[int, StoredMessage] = {}
        self.attachments: dict[int, StoredAttachment] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self.by_token: dict[str, InteractionRecord] = {}
        self.commands = CommandRegistry()
        for number in range(1, guild_count + 1):
            self.add_guild(f"Story Guild {number}")

    def add_guild(self, name: str, shard: tuple[int, int] | None = None) -> Guild:
        """A guild with the bot in it; `shard=(id, count)` picks an id on that shard."""
        guild_id = self.ids.next() if shard is None else self.ids.next_on_shard(*shard)
        everyone = Role(guild_id, "@everyone", MEMBER_PERMISSIONS)
        bot_role = Role(self.ids.next(), self.bot.username, 0, position=1, managed=True)
        text = Channel(self.ids.next(), guild_id, "stories")
        guild = Guild(guild_id, name, self.owner.id, [text], [everyone, bot_role])
        guild.members[self.bot.id] = Member(self.bot, [bot_role.id])
        guild.members[self.owner.id] = Member(self.owner)
        self.guilds[guild_id] = guild
        self.channels[text.id] = text
        return guild

    def add_user(
        self, username: str, guild: Guild | None = None, *, ident: int | None = None
    ) -> User:
        new = User(ident or self.ids.next(), username, username.title())
        self.users[new.id] = new
        for target in [guild] if guild else self.guilds.values():
            target.members[new.id] = Member(new)
        return new

    def guild_of(self, channel_id: int) -> Guild:
        return self.guilds[self.channels[channel_id].guild_id]

    def dm_with(self, user: User) -> Channel:
        """The member's DM channel with the bot (made on first use)."""
        found = next((c for c in self.dms.values() if c.name == str(user.id)), None)
        if found is None:
            found = Channel(self.ids.next(), 0, str(user.id), type=DM_CHANNEL)
            self.dms[found.id] = found
            self.channels[found.id] = found
        return found

    def upload_limit(self, channel_id: int) -> int:
        guild = self.guilds.get(self.channels[channel_id].guild_id)
        return guild.upload_limit if guild is not None else DEFAULT_UPLOAD_LIMIT

    def store_file(
        self, channel_id: int, upload: Upload | UploadedFile, *, ephemeral: bool = False
    ) -> StoredAttachment:
        stored = StoredAttachment.create(self.ids.next(), channel_id, upload, ephemeral=ephemeral)
        self.attachments[stored.id] = stored
        return stored

    def message_payload(self, message: StoredMessage) -> JSON:
        return payloads.message(message, self.base_url, application_id=self.application_id)

    def visible_message(self, channel_id: int, message_id: int) -> StoredMessage | None:
        """A message the bot can reach through the channel endpoints (never an ephemeral one)."""
        found = self.messages.get(message_id)
        if found is None or found.deleted or found.ephemeral or found.channel_id != channel_id:
            return None
        return found
