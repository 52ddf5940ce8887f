"""INTERACTION_CREATE payloads — slash commands (subcommands, groups, attachments),
autocomplete, component clicks — shaped like what Discord sends and discord.py parses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tests.fakes.discord import payloads
from tests.fakes.discord.model import (
    DEFAULT_UPLOAD_LIMIT,
    DM_PERMISSIONS,
    JSON,
    Channel,
    Guild,
    Member,
    Role,
    StoredMessage,
    Upload,
    User,
)
from tests.fakes.discord.state import State

SUB_COMMAND, GROUP, STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE = 1, 2, 3, 4, 5, 6, 7, 8
MENTIONABLE, NUMBER, ATTACHMENT = 9, 10, 11

OptionValue = str | int | float | bool | Upload | User | Channel | Role
Resolved = dict[str, dict[str, JSON]]


@dataclass(frozen=True, slots=True)
class Invoker:
    """Who acts, where, and with which permissions (Discord's computed `permissions` value)."""

    user: User
    guild: Guild | None  # None: a DM with the bot
    channel: Channel
    permissions: int
    locale: str = "en-US"

    @property
    def guild_id(self) -> int:
        return self.guild.id if self.guild is not None else 0


def command_data(
    state: State,
    invoker: Invoker,
    names: Sequence[str],
    options: Mapping[str, OptionValue],
    *,
    focused: str | None = None,
) -> JSON:
    """`data` of a slash command (or, with `focused`, its autocomplete) as its guild sees it."""
    if not names:
        raise ValueError("name the command, e.g. slash('story', 'start', ...)")
    command = state.commands.find(names[0], invoker.guild_id)
    if command is None:
        raise LookupError(f"/{names[0]} is not registered for guild {invoker.guild_id}; sync first")
    walked = _walk(command.get("options", []), names[1:])
    schema = walked[-1].get("options", []) if walked else command.get("options", [])
    resolved: Resolved = {}
    leaf = _options(state, invoker, schema, options, resolved, focused)
    for holder in reversed(walked):  # wrap the leaf options in their subcommand / group layers
        leaf = [{"name": holder["name"], "type": holder["type"], "options": leaf}]
    data: JSON = {"id": command["id"], "name": command["name"], "type": 1, "options": leaf}
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    if resolved:
        data["resolved"] = resolved
    return data


def stale_command_data(
    state: State, names: Sequence[str], options: Mapping[str, str | int | bool]
) -> JSON:
    """`data` an out-of-date client sends for a command (or subcommand) the bot never
    registered: a fresh command id, options typed as the client remembers them."""
    leaf: list[JSON] = [
        {"name": name, "type": _plain_type(value), "value": value}
        for name, value in options.items()
    ]
    for name in reversed(names[1:]):
        leaf = [{"name": name, "type": SUB_COMMAND, "options": leaf}]
    return {"id": str(state.ids.next()), "name": names[0], "type": 1, "options": leaf}


def _plain_type(value: str | int | bool) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    return INTEGER if isinstance(value, int) else STRING


def _walk(schema: list[JSON], path: Sequence[str]) -> list[JSON]:
    found: list[JSON] = []
    level = schema
    for name in path:
        match = next(
            (o for o in level if o["name"] == name and o["type"] in (SUB_COMMAND, GROUP)), None
        )
        if match is None:
            have = [o["name"] for o in level]
            raise LookupError(f"no subcommand or group {name!r}; this level has {have}")
        found.append(match)
        level = match.get("options", [])
    if level and level[0]["type"] in (SUB_COMMAND, GROUP):
        raise LookupError(
            f"/{' '.join(path)} needs a subcommand: one of {[o['name'] for o in level]}"
        )
    return found


def _options(
    state: State,
    invoker: Invoker,
    schema: list[JSON],
    given: Mapping[str, OptionValue],
    resolved: Resolved,
    focused: str | None,
) -> list[JSON]:
    by_name = {o["name"]: o for o in schema}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        raise LookupError(f"unknown option(s) {unknown}; the command has {sorted(by_name)}")
    if focused is None:
        missing = [o["name"] for o in schema if o.get("required") and o["name"] not in given]
        if missing:
            raise ValueError(f"Discord never sends a command without its required {missing}")
    built: list[JSON] = []
    for name, value in given.items():
        spec = by_name[name]
        if name == focused:  # what the member has typed so far, always as text
            built.append({"name": name, "type": spec["type"], "value": str(value), "focused": True})
            continue
        wire = _value(state, invoker, spec["type"], value, resolved)
        choices = [c["value"] for c in spec.get("choices") or []]
        if choices and wire not in choices:
            raise ValueError(f"{name}={wire!r} is not one of the offered choices {choices}")
        built.append({"name": name, "type": spec["type"], "value": wire})
    return built


def _value(
    state: State, invoker: Invoker, kind: int, value: OptionValue, resolved: Resolved
) -> str | int | float | bool:
    if kind == ATTACHMENT and isinstance(value, Upload):
        stored = state.store_file(invoker.channel.id, value, ephemeral=True)
        resolved.setdefault("attachments", {})[str(stored.id)] = payloads.attachment(
            stored, state.base_url
        )
        return str(stored.id)
    if kind in (USER, MENTIONABLE) and isinstance(value, User):
        resolved.setdefault("users", {})[str(value.id)] = payloads.user(value)
        member = invoker.guild.members.get(value.id) if invoker.guild is not None else None
        if member is not None:
            entry = payloads.member(member, permissions=invoker.permissions, with_user=False)
            resolved.setdefault("members", {})[str(value.id)] = entry
        return str(value.id)
    if kind == CHANNEL and isinstance(value, Channel):
        entry = payloads.channel(value, permissions=invoker.permissions)
        resolved.setdefault("channels", {})[str(value.id)] = entry
        return str(value.id)
    if kind in (ROLE, MENTIONABLE) and isinstance(value, Role):
        resolved.setdefault("roles", {})[str(value.id)] = payloads.role(value)
        return str(value.id)
    if kind == STRING and isinstance(value, str):
        return value
    if kind == BOOLEAN and isinstance(value, bool):
        return value
    if kind == INTEGER and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == NUMBER and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise TypeError(f"option type {kind} cannot carry {value!r}")


def component_data(message: StoredMessage, custom_id: str, values: Sequence[str] | None) -> JSON:
    """`data` of a click on a component that really is on `message` (and not disabled)."""
    component = next((c for c in message.buttons() if c.get("custom_id") == custom_id), None)
    if component is None:
        have = message.custom_ids()
        raise LookupError(f"message {message.id} has no component {custom_id!r}; it has {have}")
    if component.get("disabled"):
        raise ValueError(f"component {custom_id!r} is disabled; Discord would not send the click")
    data: JSON = {"custom_id": custom_id, "component_type": component.get("type", 2)}
    if "id" in component:
        data["id"] = component["id"]
    if data["component_type"] != 2:
        data["values"] = list(values or [])
    return data


def interaction_payload(
    state: State,
    invoker: Invoker,
    *,
    ident: int,
    token: str,
    kind: int,
    data: JSON,
    message: StoredMessage | None = None,
) -> JSON:
    guild, channel = invoker.guild, invoker.channel
    common: JSON = {
        "id": str(ident),
        "application_id": str(state.application_id),
        "type": kind,
        "token": token,
        "version": 1,
        "data": data,
        "channel_id": str(channel.id),
        "locale": invoker.locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
    }
    if message is not None:
        common["message"] = state.message_payload(message)
    if guild is None:
        return {**common, **_dm_fields(invoker)}
    member = guild.members.get(invoker.user.id) or Member(invoker.user)
    body: JSON = {
        **common,
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": guild.locale, "features": []},
        "guild_locale": guild.locale,
        "channel": payloads.channel(channel, permissions=invoker.permissions),
        "member": payloads.member(member, permissions=invoker.permissions),
        "app_permissions": str(guild.bot_permissions),
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,  # GUILD
        "attachment_size_limit": guild.upload_limit,
    }
    return body


def _dm_fields(invoker: Invoker) -> JSON:
    """A DM with the bot: a `user` instead of a `member`, no guild (context BOT_DM)."""
    return {
        "channel": payloads.dm_channel(invoker.channel, invoker.user, permissions=DM_PERMISSIONS),
        "user": payloads.user(invoker.user),
        "app_permissions": str(DM_PERMISSIONS),
        "authorizing_integration_owners": {"0": "0"},
        "context": 1,  # BOT_DM
        "attachment_size_limit": DEFAULT_UPLOAD_LIMIT,
    }
