"""Per-guild settings (tier, default model, video default) and the bot's small key/value memory."""

from __future__ import annotations

from dataclasses import dataclass

from storage.sql import Backend, Row


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """A guild's settings; None means "not configured, use the bot's default"."""

    guild_id: int
    tier: str | None = None
    default_model: str | None = None
    video_default: bool = False


def _settings(row: Row) -> GuildSettings:
    return GuildSettings(
        guild_id=row["guild_id"],
        tier=row["tier"],
        default_model=row["default_model"],
        video_default=bool(row["video_default"]),
    )


# Each setter upserts its own column only, so two admins changing different settings at
# the same time cannot overwrite each other with a stale copy of the row.
_UPSERT = """INSERT INTO guild_settings (guild_id, {column}) VALUES (?, ?)
    ON CONFLICT (guild_id) DO UPDATE SET {column} = excluded.{column}
    RETURNING *"""
_COLUMNS = frozenset({"tier", "default_model", "video_default"})


class GuildRepository:
    """Reads and writes `guild_settings`."""

    def __init__(self, db: Backend) -> None:
        self._db = db

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings, defaults if it was never configured."""
        row = await self._db.fetch_one(
            "SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        return _settings(row) if row is not None else GuildSettings(guild_id)

    async def set_tier(self, guild_id: int, tier: str | None) -> GuildSettings:
        """Set the guild's tier (None = back to the default tier)."""
        return await self._set(guild_id, "tier", tier)

    async def set_default_model(self, guild_id: int, model_key: str | None) -> GuildSettings:
        """Set the guild's default image model (None = the tier's default)."""
        return await self._set(guild_id, "default_model", model_key)

    async def set_video_default(self, guild_id: int, enabled: bool) -> GuildSettings:
        """Set whether new stories animate every scene by default."""
        return await self._set(guild_id, "video_default", int(enabled))

    async def _set(self, guild_id: int, column: str, value: object) -> GuildSettings:
        if column not in _COLUMNS:  # the column name is code, never input; keep it so
            raise ValueError(f"unknown guild setting {column!r}")
        row = await self._db.fetch_returning(_UPSERT.format(column=column), (guild_id, value))
        return _settings(row)


class MetaRepository:
    """A small key/value table for bot bookkeeping (e.g. the hash of the synced command tree)."""

    def __init__(self, db: Backend) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        """The value stored under `key`, or None."""
        row = await self._db.fetch_one("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row["value"]) if row is not None else None

    async def set(self, key: str, value: str) -> None:
        """Store `value` under `key`, replacing any previous value."""
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
