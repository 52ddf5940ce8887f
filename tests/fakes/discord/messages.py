"""Creating and editing messages by Discord's rules: limits, uploads, the attachments keep-list."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from tests.fakes.discord.http_support import DiscordError, form_error
from tests.fakes.discord.ids import now_iso
from tests.fakes.discord.model import (
    EPHEMERAL,
    JSON,
    LOADING,
    StoredAttachment,
    StoredMessage,
    UploadedFile,
    User,
)
from tests.fakes.discord.state import State

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_CHARS = 6000
MAX_FILES = 10
MAX_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_CUSTOM_ID = 100
COMPONENTS_V2 = 1 << 15
SETTABLE_FLAGS = 1 << 2 | 1 << 12 | COMPONENTS_V2  # suppress embeds / notifications, V2


def create_message(
    state: State,
    channel_id: int,
    data: JSON | None,
    files: Sequence[UploadedFile],
    *,
    author: User,
    ephemeral_allowed: bool = False,
    extra_flags: int = 0,
    webhook_id: int | None = None,
    interaction: JSON | None = None,
    kind: int = 0,
) -> StoredMessage:
    data = data or {}
    allowed = SETTABLE_FLAGS | (EPHEMERAL if ephemeral_allowed else 0)
    flags = (int(data.get("flags") or 0) & allowed) | extra_flags
    message = StoredMessage(
        state.ids.next(),
        channel_id,
        state.channels[channel_id].guild_id,
        author,
        flags=flags,
        type=kind,
        webhook_id=webhook_id,
        interaction=interaction,
    )
    _apply(state, message, data, files)
    if not message.loading and not _has_body(message):
        raise DiscordError(400, 50006, "Cannot send an empty message")
    state.messages[message.id] = message
    return message


def edit_message(
    state: State, message: StoredMessage, data: JSON | None, files: Sequence[UploadedFile]
) -> None:
    """PATCH semantics: fields sent replace, `attachments` lists every attachment that remains."""
    data = data or {}
    before = state.message_payload(message)
    was_loading = message.loading
    trial = dataclasses.replace(message, flags=message.flags & ~LOADING)
    _apply(state, trial, data, files)
    if "flags" in data:  # only the settable bits change; ephemeral stays what it was
        trial.flags = (trial.flags & ~SETTABLE_FLAGS) | (int(data["flags"] or 0) & SETTABLE_FLAGS)
    if not _has_body(trial):
        raise DiscordError(400, 50006, "Cannot send an empty message")
    for slot in ("content", "embeds", "components", "attachments", "flags"):
        setattr(message, slot, getattr(trial, slot))
    if not was_loading:
        message.history.append(before)
        message.edited_timestamp = now_iso()


def _apply(state: State, message: StoredMessage, data: JSON, files: Sequence[UploadedFile]) -> None:
    _check_files(state, message.channel_id, files)
    if "content" in data:
        message.content = str(data["content"] or "")
        if len(message.content) > MAX_CONTENT:
            raise form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    if "embeds" in data:
        message.embeds = list(data["embeds"] or [])
        _check_embeds(message.embeds)
    if "components" in data:
        message.components = list(data["components"] or [])
        flags = message.flags | int(data.get("flags") or 0)
        _check_components(message.components, v2=bool(flags & COMPONENTS_V2))
        _store_components(message.components)
    spec = data.get("attachments")
    if spec is not None or files:
        message.attachments = _merge_attachments(state, message, spec, files)


def _has_body(message: StoredMessage) -> bool:
    return bool(message.content or message.embeds or message.components or message.attachments)


def _check_files(state: State, channel_id: int, files: Sequence[UploadedFile]) -> None:
    if len(files) > MAX_FILES:
        raise form_error("files", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    limit = state.upload_limit(channel_id)
    if any(len(f.data) > limit for f in files):
        raise DiscordError(413, 40005, "Request entity too large")


def _merge_attachments(
    state: State, message: StoredMessage, spec: Any, files: Sequence[UploadedFile]
) -> list[StoredAttachment]:
    """Existing attachments are kept by id, new uploads are referenced by their index."""
    existing = {a.id: a for a in message.attachments}
    new = [state.store_file(message.channel_id, f) for f in files]
    if spec is None:
        return [*message.attachments, *new]
    kept: list[StoredAttachment] = []
    used: set[int] = set()
    for position, item in enumerate(spec):
        raw = str(item.get("id")) if isinstance(item, dict) else ""
        ident = int(raw) if raw.isdigit() else -1
        if ident in existing:
            kept.append(existing[ident])
        elif 0 <= ident < len(new):
            used.add(ident)
            if item.get("description") is not None:
                new[ident].description = item["description"]
            kept.append(new[ident])
        else:
            where = f"attachments.{position}.id"
            raise form_error(where, "ATTACHMENT_NOT_FOUND", "Unknown attachment or upload.")
    return kept + [a for index, a in enumerate(new) if index not in used]


def _check_embeds(embeds: list[JSON]) -> None:
    if len(embeds) > MAX_EMBEDS:
        raise form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for index, embed in enumerate(embeds):
        title, description = str(embed.get("title") or ""), str(embed.get("description") or "")
        if len(title) > 256:
            raise form_error(
                f"embeds.{index}.title", "BASE_TYPE_MAX_LENGTH", "Must be 256 or fewer."
            )
        if len(description) > 4096:
            where = f"embeds.{index}.description"
            raise form_error(where, "BASE_TYPE_MAX_LENGTH", "Must be 4096 or fewer in length.")
        fields = embed.get("fields") or []
        total += len(title) + len(description) + len(str(embed.get("footer", {}).get("text", "")))
        total += sum(len(str(f.get("name", ""))) + len(str(f.get("value", ""))) for f in fields)
    if total > MAX_EMBED_CHARS:
        raise form_error(
            "embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
        )


def _store_components(rows: list[JSON]) -> None:
    """Components as Discord keeps them: every one without an integer `id` gets the next one
    (1, 2, …), and a unicode emoji carries no `id` (discord.py sends `null`)."""
    flat: list[JSON] = []
    pending = list(rows)
    while pending:
        component = pending.pop(0)
        flat.append(component)
        pending[0:0] = component.get("components", [])
    taken = {c["id"] for c in flat if isinstance(c.get("id"), int)}
    free = (n for n in range(1, len(flat) + len(taken) + 1) if n not in taken)
    for component in flat:
        if not isinstance(component.get("id"), int):
            component["id"] = next(free)
        emoji = component.get("emoji")
        if isinstance(emoji, dict) and emoji.get("id") is None:
            emoji.pop("id", None)


def _check_components(rows: list[JSON], *, v2: bool) -> None:
    if not v2 and len(rows) > MAX_ROWS:
        raise form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    seen: set[str] = set()
    for r, row in enumerate(rows):
        children = row.get("components", [])
        if not v2 and (row.get("type") != 1 or len(children) > MAX_ROW_BUTTONS):
            where = f"components.{r}"
            raise form_error(where, "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "Bad action row.")
        for c, child in enumerate(children):
            custom_id = child.get("custom_id")
            where = f"components.{r}.components.{c}.custom_id"
            if child.get("type") == 2 and child.get("style") != 5 and custom_id is None:
                raise form_error(where, "BASE_TYPE_REQUIRED", "This field is required")
            if custom_id is None:
                continue
            if len(custom_id) > MAX_CUSTOM_ID:
                raise form_error(where, "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
            if custom_id in seen:
                raise form_error(where, "COMPONENT_CUSTOM_ID_DUPLICATED", "Custom id duplicated.")
            seen.add(custom_id)
