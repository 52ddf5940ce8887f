"""A loopback stand-in of Discord's API v10 (REST, gateway, CDN) for end-to-end tests.

The real, unmodified discord.py client talks to it over HTTP and a websocket on 127.0.0.1;
tests inject interactions through it and assert on what the bot sent. See `standin.py`.
"""

from tests.fakes.discord.http_support import Fault
from tests.fakes.discord.model import (
    ADMINISTRATOR,
    MANAGE_GUILD,
    MANAGER_PERMISSIONS,
    MEMBER_PERMISSIONS,
    Channel,
    Guild,
    RecordedRequest,
    StoredAttachment,
    StoredMessage,
    Upload,
    UploadedFile,
    User,
)
from tests.fakes.discord.records import Callback, InteractionRecord
from tests.fakes.discord.standin import DiscordStandin

__all__ = [
    "ADMINISTRATOR",
    "MANAGER_PERMISSIONS",
    "MANAGE_GUILD",
    "MEMBER_PERMISSIONS",
    "Callback",
    "Channel",
    "DiscordStandin",
    "Fault",
    "Guild",
    "InteractionRecord",
    "RecordedRequest",
    "StoredAttachment",
    "StoredMessage",
    "Upload",
    "UploadedFile",
    "User",
]
