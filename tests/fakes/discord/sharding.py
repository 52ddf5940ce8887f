"""Discord's sharding rules, as the gateway stand-in applies them (reference §4.7).

A guild's events go to shard `(guild_id >> 22) % shard_count`. An IDENTIFY names its shard as
`[shard_id, shard_count]` (none means `[0, 1]`). Discord closes the connection with 4010
(Invalid shard) for a shard id outside the count, and with 4011 (Sharding required) when the
shard would hold more than 2,500 guilds. IDENTIFYs are limited to `max_concurrency` per 5 s,
one per rate-limit bucket (`shard_id % max_concurrency`); one over the limit is answered with
Opcode 9 Invalid Session. The stand-in is stricter than Discord in one way, so a test can
fail: while a shard has a live session, an IDENTIFY for the same shard, or for another shard
count, is refused with 4010 (Discord would deliver the guild's events to both sessions, and a
guild's interactions would be answered twice).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

IDENTIFY_INTERVAL = 5.0  # seconds; Discord's window for max_concurrency IDENTIFYs
GUILDS_PER_SHARD = 2500
INVALID_SHARD, SHARDING_REQUIRED = 4010, 4011
UNSHARDED = (0, 1)
Shard = tuple[int, int]  # (shard_id, shard_count)


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a guild's events to."""
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True, slots=True)
class Refusal:
    close_code: int | None  # None: Opcode 9 Invalid Session (the identify rate limit)
    reason: str


@dataclass(frozen=True, slots=True)
class Identify:
    """One IDENTIFY as the stand-in read it: when (monotonic), for which shard, and whether
    it was refused."""

    at: float
    shard: Shard
    refusal: Refusal | None


@dataclass
class ShardRules:
    """What `/gateway/bot` answers and how IDENTIFYs are judged. `identify_interval` is 0 by
    default so tests may restart a client at once; set IDENTIFY_INTERVAL for Discord's limit."""

    recommended_shards: int = 1
    max_concurrency: int = 1
    identify_interval: float = 0.0
    guilds_per_shard: int = GUILDS_PER_SHARD
    session_starts: int = 1000  # Discord's daily total for most bots
    log: list[Identify] = field(default_factory=list)
    _last: dict[int, float] = field(default_factory=dict)  # rate-limit bucket → last IDENTIFY

    @property
    def refusals(self) -> list[Identify]:
        return [entry for entry in self.log if entry.refusal is not None]

    @property
    def accepted(self) -> list[Identify]:
        return [entry for entry in self.log if entry.refusal is None]

    def gateway_bot(self, url: str) -> dict[str, object]:
        """The body of GET /gateway/bot."""
        limit = {
            "total": self.session_starts,
            "remaining": max(self.session_starts - len(self.accepted), 0),
            "reset_after": 14_400_000,
            "max_concurrency": self.max_concurrency,
        }
        return {"url": url, "shards": self.recommended_shards, "session_start_limit": limit}

    def judge(self, raw: object, live: Collection[Shard], guild_ids: Iterable[int]) -> Identify:
        """Judge an IDENTIFY's `shard` field against the shards with a live session."""
        now = time.monotonic()
        shard = _parse(raw)
        refusal = self._refusal(shard, live, guild_ids, now) if shard else _BAD_SHARD
        entry = Identify(now, shard or (-1, -1), refusal)
        self.log.append(entry)
        if shard and refusal is None:
            self._last[shard[0] % self.max_concurrency] = now
        return entry

    def _refusal(
        self, shard: Shard, live: Collection[Shard], guild_ids: Iterable[int], now: float
    ) -> Refusal | None:
        shard_id, count = shard
        if not 0 <= shard_id < count:
            return _BAD_SHARD
        if any(other[1] != count for other in live):
            counts = sorted({other[1] for other in live})
            return Refusal(INVALID_SHARD, f"Invalid shard: live sessions run {counts} shards.")
        if shard in live:
            return Refusal(INVALID_SHARD, f"Invalid shard: shard {shard_id} is already live.")
        held = sum(1 for guild_id in guild_ids if shard_of(guild_id, count) == shard_id)
        if held > self.guilds_per_shard:
            return Refusal(SHARDING_REQUIRED, "Sharding required.")
        last = self._last.get(shard_id % self.max_concurrency)
        if last is not None and now - last < self.identify_interval:
            return Refusal(None, f"IDENTIFY {now - last:.2f} s after the previous one.")
        return None


_BAD_SHARD = Refusal(INVALID_SHARD, "Invalid shard.")


def _parse(raw: object) -> Shard | None:
    if raw is None:
        return UNSHARDED
    if not isinstance(raw, list) or len(raw) != 2:
        return None
    shard_id, count = raw
    if type(shard_id) is not int or type(count) is not int or count < 1:
        return None
    return shard_id, count
