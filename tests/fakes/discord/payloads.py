"""JSON payloads shaped like Discord API v10's, complete enough for discord.py to parse."""

from __future__ import annotations

import copy

from tests.fakes.discord.ids import cdn_signature, iso, snowflake_time
from tests.fakes.discord.model import (
    JSON,
    Channel,
    Guild,
    Member,
    Role,
    StoredAttachment,
    StoredMessage,
    User,
)


def user(u: User) -> JSON:
    return {
        "id": str(u.id),
        "username": u.username,
        "discriminator": "0",
        "global_name": u.global_name,
        "avatar": None,
        "bot": u.bot,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "primary_guild": None,
        "collectibles": None,
    }


def member(m: Member, *, permissions: int | None = None, with_user: bool = True) -> JSON:
    body: JSON = {
        "roles": [str(r) for r in m.roles],
        "nick": m.nick,
        "avatar": None,
        "banner": None,
        "joined_at": m.joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
        "unusual_dm_activity_until": None,
    }
    if with_user:
        body["user"] = user(m.user)
    if permissions is not None:
        body["permissions"] = str(permissions)
    return body


def role(r: Role) -> JSON:
    return {
        "id": str(r.id),
        "name": r.name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": r.position,
        "permissions": str(r.permissions),
        "managed": r.managed,
        "mentionable": False,
        "flags": 0,
    }


def dm_channel(c: Channel, recipient: User, *, permissions: int) -> JSON:
    return {
        "id": str(c.id),
        "type": c.type,
        "last_message_id": None,
        "flags": 0,
        "recipients": [user(recipient)],
        "permissions": str(permissions),
    }


def channel(c: Channel, *, permissions: int | None = None) -> JSON:
    body: JSON = {
        "id": str(c.id),
        "type": c.type,
        "guild_id": str(c.guild_id),
        "name": c.name,
        "position": c.position,
        "permission_overwrites": [],
        "parent_id": None,
        "topic": c.topic,
        "nsfw": False,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }
    if permissions is not None:
        body["permissions"] = str(permissions)
    return body


def guild_create(g: Guild) -> JSON:
    return {
        "id": str(g.id),
        "name": g.name,
        "icon": None,
        "owner_id": str(g.owner_id),
        "unavailable": False,
        "large": False,
        "member_count": len(g.members),
        "joined_at": "2025-01-01T00:00:00.000000+00:00",
        "roles": [role(r) for r in g.roles],
        "channels": [channel(c) for c in g.channels],
        "threads": [],
        "members": [member(m) for m in g.members.values()],
        "voice_states": [],
        "presences": [],
        "emojis": [],
        "stickers": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "features": [],
        "premium_tier": g.premium_tier,
        "preferred_locale": g.locale,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "system_channel_flags": 0,
        "afk_timeout": 300,
    }


def application(app_id: int, bot: User, owner: User) -> JSON:
    return {
        "id": str(app_id),
        "name": bot.username,
        "icon": None,
        "description": "",
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "type": None,
        "flags": 1 << 23,  # GATEWAY_MESSAGE_CONTENT_LIMITED
        "flags_new": str(1 << 23),
        "owner": user(owner),
        "team": None,
        "bot": user(bot),
        "summary": "",
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "redirect_uris": [],
        "tags": [],
        "approximate_guild_count": 2,
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "eligible_oauth2_scopes": ["bot", "applications.commands"],
    }


def attachment(a: StoredAttachment, base_url: str) -> JSON:
    url = f"{base_url}{a.path}?{cdn_signature()}"
    body: JSON = {
        "id": str(a.id),
        "filename": a.filename,
        "size": a.size,
        "url": url,
        "proxy_url": url,
        "content_type": a.content_type,
        "flags": 0,
    }
    if a.description is not None:
        body["description"] = a.description
    if a.width is not None:
        body["width"], body["height"] = a.width, a.height
    if a.ephemeral:
        body["ephemeral"] = True
    return body


def message(m: StoredMessage, base_url: str, *, application_id: int) -> JSON:
    attachments = [attachment(a, base_url) for a in m.attachments]
    body: JSON = {
        "id": str(m.id),
        "channel_id": str(m.channel_id),
        "author": user(m.author),
        "content": m.content,
        "timestamp": iso(snowflake_time(m.id)),
        "edited_timestamp": m.edited_timestamp,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "mention_channels": [],
        "attachments": attachments,
        "embeds": _resolve_embed_files(m.embeds, attachments),
        "components": copy.deepcopy(m.components),
        "reactions": [],
        "pinned": False,
        "type": m.type,
        "flags": m.flags,
        "position": 0,
    }
    if m.guild_id:  # none in a DM
        body["guild_id"] = str(m.guild_id)
    if m.webhook_id is not None:
        body["webhook_id"] = str(m.webhook_id)
        body["application_id"] = str(application_id)
    if m.interaction is not None:
        body["interaction_metadata"] = copy.deepcopy(m.interaction)
    return body


def _resolve_embed_files(embeds: list[JSON], attachments: list[JSON]) -> list[JSON]:
    """Discord rewrites `attachment://name` embed images to the attachment's CDN link."""
    by_name = {a["filename"]: a for a in attachments}
    resolved = copy.deepcopy(embeds)
    for embed in resolved:
        embed.setdefault("type", "rich")
        embed.setdefault("content_scan_version", 0)
        for key in ("image", "thumbnail"):
            media = embed.get(key)
            if not isinstance(media, dict):
                continue
            url = str(media.get("url", ""))
            if url.startswith("attachment://") and url[13:] in by_name:
                found = by_name[url[13:]]
                media.update(url=found["url"], proxy_url=found["proxy_url"], flags=0)
                if "width" in found:
                    media.update(width=found["width"], height=found["height"])
    return resolved


def ready(
    *,
    bot: User,
    app_id: int,
    guilds: list[Guild],
    session_id: str,
    resume_url: str,
    shard: tuple[int, int],
) -> JSON:
    return {
        "v": 10,
        "user": {**user(bot), "verified": True, "mfa_enabled": False, "email": None},
        "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": resume_url,
        "shard": list(shard),
        "application": {"id": str(app_id), "flags": 1 << 23},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "user_settings": {},
        "geo_ordered_rtc_regions": ["us-east"],
        "auth": {},
        "_trace": ['["gateway-stand-in",{"micros":0}]'],
    }
