"""Where a member stands on this server: the tier, the default model, what was used and what
is left today.

Discord-free; /help and /usage show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.errors import Refusal
from bot.policy import Policy
from bot.tiers import Tier
from storage import Storage, UsageKind, UsageSummary


@dataclass(frozen=True, slots=True)
class Standing:
    tier: Tier
    default_model: str | None  # display name; None when no model is available
    server_scenes_left: int
    member_scenes_left: int
    videos_left: int  # 0 on a tier without video
    resets_at: datetime


@dataclass(frozen=True, slots=True)
class UsageToday:
    """A server's use today (/usage), and the asking member's own scenes."""

    tier: Tier
    summary: UsageSummary
    member_scenes: int


class Standings:
    def __init__(self, policy: Policy, storage: Storage) -> None:
        self._policy = policy
        self._storage = storage

    async def usage(self, guild_id: int, member_id: int) -> UsageToday:
        usage = self._storage.usage
        summary = await usage.summary_today(guild_id)
        mine = await usage.count_today(guild_id, UsageKind.SCENE, member_id=member_id)
        return UsageToday(await self._policy.tier(guild_id), summary, mine)

    async def standing(self, guild_id: int, member_id: int) -> Standing:
        try:
            chosen = await self._policy.choose(guild_id, None, None)
            default: str | None = chosen.spec.display
        except Refusal:
            default = None
        today = await self.usage(guild_id, member_id)
        tier, by_kind = today.tier, today.summary.by_kind
        videos = by_kind[UsageKind.VIDEO].count
        return Standing(
            tier=tier,
            default_model=default,
            server_scenes_left=max(0, tier.scenes_per_day - by_kind[UsageKind.SCENE].count),
            member_scenes_left=max(0, tier.member_scenes_per_day - today.member_scenes),
            videos_left=max(0, tier.videos_per_day - videos) if tier.video else 0,
            resets_at=today.summary.resets_at,
        )
