"""The stand-in's state as plain objects: users, guilds, channels, messages, uploads, requests."""

from __future__ import annotations

import io
import mimetypes
import re
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

# Permission bits (Discord's `permissions` strings are these as decimal integers).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_APPLICATION_COMMANDS = 1 << 31
MEMBER_PERMISSIONS = (
    1 | 1 << 6 | VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES
    | READ_MESSAGE_HISTORY | 1 << 18 | USE_APPLICATION_COMMANDS
)  # fmt: skip
MANAGER_PERMISSIONS = MEMBER_PERMISSIONS | MANAGE_GUILD
BOT_PERMISSIONS = MEMBER_PERMISSIONS | 1 << 13  # + MANAGE_MESSAGES

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024  # 10 MiB, a guild without boosts
# Per-file upload limit by boost tier (discord.py's `Guild._PREMIUM_GUILD_LIMITS`).
BOOST_UPLOAD_LIMITS = {0: DEFAULT_UPLOAD_LIMIT, 1: DEFAULT_UPLOAD_LIMIT, 2: 50 << 20, 3: 100 << 20}

DM_CHANNEL = 1
DM_PERMISSIONS = MEMBER_PERMISSIONS  # what an app may do in a DM with a member

EPHEMERAL = 1 << 6
LOADING = 1 << 7


@dataclass(slots=True)
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False


@dataclass(slots=True)
class Role:
    id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False


@dataclass(slots=True)
class Member:
    user: User
    roles: list[int] = field(default_factory=list)
    joined_at: str = "2025-01-01T00:00:00.000000+00:00"
    nick: str | None = None


@dataclass(slots=True)
class Channel:
    id: int
    guild_id: int  # 0 for a DM
    name: str
    type: int = 0  # GUILD_TEXT; DM = 1
    position: int = 0
    topic: str | None = None


@dataclass(slots=True)
class Guild:
    id: int
    name: str
    owner_id: int
    channels: list[Channel] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    members: dict[int, Member] = field(default_factory=dict)
    upload_limit: int = DEFAULT_UPLOAD_LIMIT
    bot_permissions: int = BOT_PERMISSIONS
    locale: str = "en-US"
    boost_tier: int | None = None  # None: derived from upload_limit

    @property
    def text_channel(self) -> Channel:
        return next(c for c in self.channels if c.type == 0)

    @property
    def premium_tier(self) -> int:
        """The boost tier discord.py derives `Guild.filesize_limit` from."""
        if self.boost_tier is not None:
            return self.boost_tier
        if self.upload_limit >= 100 * 1024 * 1024:
            return 3
        return 2 if self.upload_limit >= 50 * 1024 * 1024 else 0


@dataclass(frozen=True, slots=True)
class Upload:
    """A file a test hands to the stand-in, e.g. a reference photo attached to a slash command."""

    data: bytes
    filename: str
    content_type: str | None = None
    description: str | None = None
    gone: bool = False  # the CDN no longer serves it (404), e.g. deleted before it was read


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A multipart `files[n]` part the bot sent."""

    field: str
    filename: str
    content_type: str | None
    data: bytes


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(slots=True)
class StoredAttachment:
    id: int
    channel_id: int
    filename: str
    data: bytes
    content_type: str | None
    description: str | None = None
    ephemeral: bool = False
    width: int | None = None
    height: int | None = None
    gone: bool = False  # the CDN answers 404

    @classmethod
    def create(
        cls, ident: int, channel_id: int, upload: Upload | UploadedFile, *, ephemeral: bool = False
    ) -> StoredAttachment:
        filename = _UNSAFE.sub("_", upload.filename) or "unknown"
        ctype = upload.content_type if isinstance(upload, Upload) else None
        ctype = (
            ctype or mimetypes.guess_type(filename)[0]
        )  # Discord sniffs; the bot sends octet-stream
        description = upload.description if isinstance(upload, Upload) else None
        width, height = (
            _image_size(upload.data) if (ctype or "").startswith("image/") else (None, None)
        )
        gone = isinstance(upload, Upload) and upload.gone
        return cls(
            ident,
            channel_id,
            filename,
            upload.data,
            ctype,
            description,
            ephemeral,
            width,
            height,
            gone,
        )

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def path(self) -> str:
        kind = "ephemeral-attachments" if self.ephemeral else "attachments"
        return f"/{kind}/{self.channel_id}/{self.id}/{self.filename}"


def _image_size(data: bytes) -> tuple[int | None, int | None]:
    try:
        from PIL import Image  # only for the width/height Discord reports

        with Image.open(io.BytesIO(data)) as image:
            return image.width, image.height
    except Exception:  # not an image after all: Discord then reports no size either
        return None, None


@dataclass(slots=True)
class StoredMessage:
    id: int
    channel_id: int
    guild_id: int
    author: User
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[StoredAttachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    webhook_id: int | None = None
    interaction: JSON | None = None  # interaction_metadata of a response or follow-up
    edited_timestamp: str | None = None
    deleted: bool = False
    history: list[JSON] = field(default_factory=list)  # earlier versions, oldest first

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """Still the "Bot is thinking…" placeholder of a deferred interaction."""
        return bool(self.flags & LOADING)

    @property
    def filenames(self) -> list[str]:
        return [a.filename for a in self.attachments]

    def buttons(self) -> list[JSON]:
        """Every interactive component (buttons, selects), depth-first."""
        found: list[JSON] = []
        stack = list(reversed(self.components))
        while stack:
            component = stack.pop()
            if "custom_id" in component or component.get("type") == 2:
                found.append(component)
            stack.extend(reversed(component.get("components", [])))
            if isinstance(component.get("accessory"), dict):
                stack.append(component["accessory"])
        return found

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in self.buttons() if "custom_id" in c]


@dataclass(slots=True)
class RecordedRequest:
    """One HTTP request to the stand-in; `path` has the `/api/v10` prefix removed."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: tuple[UploadedFile, ...]
    at: float  # time.monotonic() on arrival
    status: int = 0
    matched: bool = True  # False: no route, answered 404 — an unexpected call
    fault: bool = False  # answered by an injected fault
