"""The usage ledger: one row per generation, counted per UTC day for quotas and /usage.

A generation that fails is not counted. A slot is held with `reserve` before the provider call,
then closed with `settle`: the check and the insert are one statement, so concurrent requests
cannot overshoot; a failed one is settled as failed and stops counting. Reservations left
pending by a crash are released at start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from storage.clock import Clock, from_db_time, next_utc_midnight, to_db_time, utc_day, utc_now
from storage.errors import NotFound, QuotaExceeded
from storage.sql import Backend, Row


class UsageKind(StrEnum):
    """What was generated: a scene's picture (new or redrawn), or a video."""

    SCENE = "scene"
    VIDEO = "video"


@dataclass(frozen=True, slots=True)
class UsageEntry:
    """One generation; `outcome` is 'pending' (reserved), 'ok' or 'failed' (not counted)."""

    id: int
    guild_id: int
    member_id: int
    kind: UsageKind
    model_key: str
    cost_usd: float
    day: date
    outcome: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class KindUsage:
    """Counted generations of one kind today and their estimated cost."""

    count: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class UsageSummary:
    """A guild's use today (for /usage), with the moment the counters reset."""

    guild_id: int
    day: date
    by_kind: Mapping[UsageKind, KindUsage]
    resets_at: datetime

    @property
    def total_cost_usd(self) -> float:
        """Estimated cost of everything counted today."""
        return sum(usage.cost_usd for usage in self.by_kind.values())


def _entry(row: Row) -> UsageEntry:
    return UsageEntry(
        id=row["id"],
        guild_id=row["guild_id"],
        member_id=row["member_id"],
        kind=UsageKind(row["kind"]),
        model_key=row["model_key"],
        cost_usd=row["cost_usd"],
        day=date.fromisoformat(row["day"]),
        outcome=row["outcome"],
        created_at=from_db_time(row["created_at"]),
    )


_ENTRY = """INSERT INTO usage (guild_id, member_id, kind, model_key, cost_usd, day,
        created_at, outcome)
    SELECT :guild_id, :member_id, :kind, :model_key, :cost_usd, :day, :created_at, :outcome"""
_COUNTED = """SELECT COUNT(*) AS n FROM usage
    WHERE guild_id = :guild_id AND day = :day AND kind = :kind AND outcome <> 'failed'"""
# Optional member filter without building SQL: a NULL :member_id matches every member.
# (The CASTs tell PostgreSQL the type of a parameter first seen in `IS NULL`.)
_COUNT = _COUNTED + " AND (CAST(:member_id AS BIGINT) IS NULL OR member_id = :member_id)"
# The quota check and the hold in one statement, so it is atomic without a transaction:
# no row comes back when a limit (NULL: none) is already reached.
_RESERVE = (
    _ENTRY
    + "\n    WHERE (CAST(:guild_limit AS BIGINT) IS NULL OR ("
    + _COUNTED
    + ") < :guild_limit)\n    AND (CAST(:member_limit AS BIGINT) IS NULL OR ("
    + _COUNTED
    + " AND member_id = :member_id) < :member_limit)\n    RETURNING *"
)


class UsageLedger:
    """Reads and writes `usage`."""

    def __init__(self, db: Backend, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def reserve(
        self,
        *,
        guild_id: int,
        member_id: int,
        kind: UsageKind,
        model_key: str,
        cost_usd: float,
        guild_limit: int | None,
        member_limit: int | None,
    ) -> UsageEntry:
        """Check the daily limits and hold a slot in one statement; QuotaExceeded if full."""
        moment = self._clock()
        params = _params(guild_id, member_id, kind, model_key, cost_usd, moment)
        rows = await self._db.fetch_serializable(
            _RESERVE, params | {"guild_limit": guild_limit, "member_limit": member_limit}
        )
        if rows:
            return _entry(rows[0])
        # Which limit was reached: the guild's is checked first, as members see it that way.
        guild_full = member_limit is None or (
            guild_limit is not None and await _count(self._db, params, None) >= guild_limit
        )
        scope, limit = ("guild", guild_limit) if guild_full else ("member", member_limit)
        raise QuotaExceeded(scope, kind.value, limit or 0, next_utc_midnight(moment))

    async def settle(
        self, entry_id: int, *, succeeded: bool, cost_usd: float | None = None
    ) -> UsageEntry:
        """Close a reservation: counted if the generation succeeded, not counted if it failed.
        `cost_usd`, when the provider reported what it really cost, replaces the estimate."""
        row = await self._db.fetch_one(
            """UPDATE usage SET outcome = ?, cost_usd = COALESCE(?, cost_usd)
                WHERE id = ? AND outcome = 'pending' RETURNING *""",
            ("ok" if succeeded else "failed", cost_usd, entry_id),
        )
        if row is None:
            raise NotFound("pending usage entry", entry_id)
        return _entry(row)

    async def member_of(self, entry_id: int) -> int | None:
        """The member an entry was charged to (who asked for a video), if the entry exists."""
        row = await self._db.fetch_one("SELECT member_id FROM usage WHERE id = ?", (entry_id,))
        return int(row["member_id"]) if row is not None else None

    async def release_pending(self, *, older_than: timedelta | None = None) -> int:
        """At start: reservations of generations a crash interrupted stop counting (with
        `older_than`, only those made that long ago or more). A video job that carries on
        after the restart keeps its slot until it finishes."""
        cutoff = self._clock() - older_than if older_than is not None else None
        return await self._db.execute(
            """UPDATE usage SET outcome = 'failed' WHERE outcome = 'pending'
                AND (CAST(:cutoff AS TEXT) IS NULL OR created_at <= :cutoff)
                AND id NOT IN (SELECT usage_id FROM video_jobs WHERE usage_id IS NOT NULL
                AND state IN ('queued', 'submitting', 'submitted', 'downloading'))""",
            {"cutoff": to_db_time(cutoff) if cutoff is not None else None},
        )

    async def count_today(
        self,
        guild_id: int,
        kind: UsageKind,
        *,
        member_id: int | None = None,
        now: datetime | None = None,
    ) -> int:
        """Generations of `kind` counted today (UTC) in the guild, or by one member of it."""
        params = {
            "guild_id": guild_id,
            "kind": kind.value,
            "day": utc_day(now if now is not None else self._clock()),
        }
        return await _count(self._db, params, member_id)

    async def summary_today(self, guild_id: int, *, now: datetime | None = None) -> UsageSummary:
        """The guild's counted use today by kind, and when it resets."""
        moment = now if now is not None else self._clock()
        rows = await self._db.fetch_all(
            """SELECT kind, COUNT(*) AS n, COALESCE(SUM(cost_usd), 0.0) AS cost FROM usage
                WHERE guild_id = ? AND day = ? AND outcome <> 'failed' GROUP BY kind""",
            (guild_id, utc_day(moment)),
        )
        by_kind = {kind: KindUsage() for kind in UsageKind}
        by_kind |= {UsageKind(row["kind"]): KindUsage(row["n"], row["cost"]) for row in rows}
        return UsageSummary(
            guild_id=guild_id,
            day=date.fromisoformat(utc_day(moment)),
            by_kind=by_kind,
            resets_at=next_utc_midnight(moment),
        )


def _params(
    guild_id: int, member_id: int, kind: UsageKind, model_key: str, cost_usd: float, at: datetime
) -> dict[str, object]:
    """A reservation's row, held ('pending') until it is settled."""
    return {
        "guild_id": guild_id,
        "member_id": member_id,
        "kind": kind.value,
        "model_key": model_key,
        "cost_usd": cost_usd,
        "day": utc_day(at),
        "created_at": to_db_time(at),
        "outcome": "pending",
    }


async def _count(db: Backend, params: Mapping[str, object], member_id: int | None) -> int:
    row = await db.fetch_returning(
        _COUNT,
        {
            "guild_id": params["guild_id"],
            "day": params["day"],
            "kind": params["kind"],
            "member_id": member_id,
        },
    )
    return int(row["n"])
