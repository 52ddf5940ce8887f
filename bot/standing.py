"""Where a member stands on this server: the tier, the default model and what is left today.

Discord-free; /help shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.errors import Refusal
from bot.policy import Policy
from bot.tiers import Tier
from storage import Storage, UsageKind


@dataclass(frozen=True, slots=True)
class Standing:
    tier: Tier
    default_model: str | None  # display name; None when no model is available
    server_scenes_left: int
    member_scenes_left: int
    videos_left: int  # 0 on a tier without video
    resets_at: datetime


async def standing(policy: Policy, storage: Storage, guild_id: int, member_id: int) -> Standing:
    tier = await policy.tier(guild_id)
    try:
        default: str | None = (await policy.choose(guild_id, None, None)).spec.display
    except Refusal:
        default = None
    summary = await storage.usage.summary_today(guild_id)
    mine = await storage.usage.count_today(guild_id, UsageKind.SCENE, member_id=member_id)
    videos = summary.by_kind[UsageKind.VIDEO].count
    return Standing(
        tier=tier,
        default_model=default,
        server_scenes_left=max(0, tier.scenes_per_day - summary.by_kind[UsageKind.SCENE].count),
        member_scenes_left=max(0, tier.member_scenes_per_day - mine),
        videos_left=max(0, tier.videos_per_day - videos) if tier.video else 0,
        resets_at=summary.resets_at,
    )
