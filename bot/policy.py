"""The cheap checks of SPEC §5/§7: models a guild may use, attachments, who may do what.

Everything here answers from memory (the guild cache) so it fits before a deferral and on the
autocomplete path; nothing calls a provider.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import (
    NO_MODEL_HERE,
    NOT_A_PICTURE,
    Refusal,
    model_off_bot_text,
    not_allowed_model_text,
    photo_unusable_text,
    too_many_photos_text,
    unavailable_text,
)
from bot.lineup import Lineup
from bot.tiers import Tier, TierTable
from providers.base import MAX_REFERENCE_BYTES, REFERENCE_TYPES
from providers.registry import Catalog, ModelSpec, Provider, Resolved
from storage import GuildSettings, Storage

MAX_CHOICES = 25  # Discord's autocomplete limit


@dataclass(frozen=True, slots=True)
class UploadInfo:
    """What Discord tells about an attachment before we download it."""

    name: str  # shown in messages only, never used as a file name
    content_type: str | None
    size: int


class Policy(Lineup):
    """Tier and model rules over a write-through cache of guild settings."""

    def __init__(
        self,
        catalog: Catalog,
        tiers: TierTable,
        keyed: frozenset[Provider],
        storage: Storage,
        owner_ids: frozenset[int],
    ) -> None:
        super().__init__(catalog, keyed)
        self.tiers = tiers
        self.owner_ids = owner_ids
        self._storage = storage
        self._guilds: dict[int, GuildSettings] = {}

    async def guild(self, guild_id: int) -> GuildSettings:
        """The guild's settings; one database read per guild per process, then memory."""
        cached = self._guilds.get(guild_id)
        if cached is None:
            cached = self._guilds[guild_id] = await self._storage.guilds.get(guild_id)
        return cached

    async def set_tier(self, guild_id: int, tier: str) -> None:
        self._guilds[guild_id] = await self._storage.guilds.set_tier(guild_id, tier)

    async def set_default_model(self, guild_id: int, model_key: str) -> None:
        self._guilds[guild_id] = await self._storage.guilds.set_default_model(guild_id, model_key)

    async def set_video_default(self, guild_id: int, enabled: bool) -> None:
        self._guilds[guild_id] = await self._storage.guilds.set_video_default(guild_id, enabled)

    async def tier(self, guild_id: int) -> Tier:
        return self.tiers.get((await self.guild(guild_id)).tier)

    async def allowed(self, guild_id: int) -> list[ModelSpec]:
        return self.models_of(await self.tier(guild_id))

    def autocomplete(self, tier: Tier, typed: str) -> list[ModelSpec]:
        needle = typed.strip().lower()
        return [
            spec
            for spec in self.models_of(tier)
            if needle in spec.key.lower() or needle in spec.display.lower()
        ][:MAX_CHOICES]

    async def choose(
        self, guild_id: int, typed: str | None, fallback: str | None, tier: Tier | None = None
    ) -> Resolved:
        """The model to draw with: what the member typed, else the story's or guild's default,
        else the tier's first. A retired choice is drawn by its successor, or by the tier's first
        model when the tier cannot draw with the successor; the notice says so. `tier`: the
        guild's, when the caller has read it already."""
        tier = tier if tier is not None else await self.tier(guild_id)
        if typed:
            return self._typed(typed.strip(), tier)
        for key in (fallback, (await self.guild(guild_id)).default_model):
            resolved = self.for_tier(key, tier) if key else None
            if resolved is not None:
                return resolved
        allowed = self.models_of(tier)
        if not allowed:
            raise Refusal(NO_MODEL_HERE)
        return Resolved(allowed[0])

    def at_call(self, resolved: Resolved, tier: Tier) -> Resolved:
        """What draws now for a choice made at the check: itself while live, else its stand-in.
        A scene checked just before midnight UTC may be drawn after it, when its model has
        retired, and a retired model is never sent to its provider."""
        if self.catalog.live(resolved.spec):
            return resolved
        now = self.for_tier(resolved.spec.key, tier)
        if now is None:
            raise Refusal(NO_MODEL_HERE)
        return now

    def _typed(self, typed: str, tier: Tier) -> Resolved:
        resolved = self.for_tier(typed, tier)
        if resolved is not None:
            return resolved
        spec = self.catalog.get(typed) if typed in self.catalog else None
        if spec is not None and tier.names(spec) and self.catalog.live(spec):
            if self.withdrawn(spec):
                raise Refusal(unavailable_text(spec.display, spec.provider.display))
            if spec.provider not in self.keyed:
                raise Refusal(model_off_bot_text(spec.display))
        names = ", ".join(f"`{s.key}`" for s in self.models_of(tier)) or "none"
        raise Refusal(not_allowed_model_text(typed, names))

    def check_uploads(self, uploads: Sequence[UploadInfo], tier: Tier, spec: ModelSpec) -> None:
        """Count, type and size of reference photos, from Discord's metadata alone."""
        limit = min(tier.max_references, spec.max_references)
        if len(uploads) > limit:
            raise Refusal(too_many_photos_text(spec.display, limit, len(uploads)))
        for upload in uploads:
            kind = (upload.content_type or "").split(";")[0].strip().lower()
            if kind not in REFERENCE_TYPES:
                raise Refusal(photo_unusable_text(upload.name, NOT_A_PICTURE))
            if upload.size > MAX_REFERENCE_BYTES:
                raise Refusal(photo_unusable_text(upload.name, "it is larger than 20 MiB"))

    def is_operator(self, user_id: int) -> bool:
        return user_id in self.owner_ids
