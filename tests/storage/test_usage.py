"""The usage ledger: UTC days, per guild and per member, failures not counted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage import KindUsage, NotFound, QuotaExceeded, Storage, UsageKind, next_utc_midnight
from tests.storage.builders import START, FakeClock, new_scene

GUILD, ALICE, BOB = 1, 10, 20


async def record(
    storage: Storage, member: int = ALICE, kind: UsageKind = UsageKind.SCENE, *, guild: int = GUILD
) -> None:
    """A generation that succeeded: its slot reserved without limits, then counted."""
    entry = await storage.usage.reserve(
        guild_id=guild,
        member_id=member,
        kind=kind,
        model_key="gemini",
        cost_usd=0.04,
        guild_limit=None,
        member_limit=None,
    )
    await storage.usage.settle(entry.id, succeeded=True)


async def reserve(storage: Storage, member: int = ALICE, **limits: int | None) -> int:
    entry = await storage.usage.reserve(
        guild_id=GUILD,
        member_id=member,
        kind=UsageKind.SCENE,
        model_key="gemini",
        cost_usd=0.04,
        guild_limit=limits.get("guild_limit"),
        member_limit=limits.get("member_limit"),
    )
    return entry.id


async def test_counts_are_per_guild_and_per_member_for_one_kind(storage: Storage) -> None:
    await record(storage, ALICE)
    await record(storage, ALICE)
    await record(storage, BOB)
    await record(storage, ALICE, UsageKind.VIDEO)
    await record(storage, ALICE, guild=2)
    assert await storage.usage.count_today(GUILD, UsageKind.SCENE) == 3
    assert await storage.usage.count_today(GUILD, UsageKind.SCENE, member_id=ALICE) == 2
    assert await storage.usage.count_today(GUILD, UsageKind.VIDEO, member_id=BOB) == 0


async def test_the_day_is_the_utc_day_not_the_local_one(storage: Storage, clock: FakeClock) -> None:
    # 23:30 in New York on 30 April is 03:30 UTC on 1 May: it counts on 1 May.
    new_york = timezone(timedelta(hours=-4))
    clock.now = datetime(2026, 4, 30, 23, 30, tzinfo=new_york)
    await record(storage)
    clock.now = datetime(2026, 4, 30, 23, 59, 59, tzinfo=UTC)
    await record(storage)
    may_first = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
    april_last = datetime(2026, 4, 30, 12, 0, tzinfo=UTC)
    assert await storage.usage.count_today(GUILD, UsageKind.SCENE, now=may_first) == 1
    assert await storage.usage.count_today(GUILD, UsageKind.SCENE, now=april_last) == 1


async def test_yesterdays_use_no_longer_counts(storage: Storage, clock: FakeClock) -> None:
    await record(storage)
    clock.now = next_utc_midnight(START)
    assert await storage.usage.count_today(GUILD, UsageKind.SCENE) == 0


def test_quotas_reset_at_the_next_utc_midnight() -> None:
    assert next_utc_midnight(START) == datetime(2026, 5, 2, tzinfo=UTC)
    just_before = datetime(2026, 5, 1, 23, 59, 59, 999_999, tzinfo=UTC)
    assert next_utc_midnight(just_before) == datetime(2026, 5, 2, tzinfo=UTC)
    at_midnight = datetime(2026, 5, 2, tzinfo=UTC)
    assert next_utc_midnight(at_midnight) == datetime(2026, 5, 3, tzinfo=UTC)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_utc_midnight(datetime(2026, 5, 1, 12, 0))  # naive on purpose


async def test_a_failed_generation_is_not_counted(storage: Storage) -> None:
    ok, failed = await reserve(storage), await reserve(storage)
    await storage.usage.settle(ok, succeeded=True)
    settled = await storage.usage.settle(failed, succeeded=False)
    assert settled.outcome == "failed"
    assert await storage.usage.count_today(GUILD, UsageKind.SCENE) == 1
    summary = await storage.usage.summary_today(GUILD)
    assert summary.by_kind[UsageKind.SCENE] == KindUsage(1, 0.04)


async def test_a_reservation_counts_while_its_generation_runs(storage: Storage) -> None:
    await reserve(storage)
    assert await storage.usage.count_today(GUILD, UsageKind.SCENE) == 1


async def test_a_reservation_settles_only_once(storage: Storage) -> None:
    entry = await reserve(storage)
    await storage.usage.settle(entry, succeeded=True)
    with pytest.raises(NotFound):
        await storage.usage.settle(entry, succeeded=False)


async def test_reserve_refuses_over_the_member_limit_with_the_reset_time(storage: Storage) -> None:
    await reserve(storage, ALICE, member_limit=1)
    with pytest.raises(QuotaExceeded) as refused:
        await reserve(storage, ALICE, member_limit=1)
    assert (refused.value.scope, refused.value.limit) == ("member", 1)
    assert refused.value.resets_at == datetime(2026, 5, 2, tzinfo=UTC)
    await reserve(storage, BOB, member_limit=1)  # another member still may


async def test_reserve_refuses_over_the_guild_limit(storage: Storage) -> None:
    await reserve(storage, ALICE, guild_limit=2)
    await reserve(storage, BOB, guild_limit=2)
    with pytest.raises(QuotaExceeded, match="guild"):
        await reserve(storage, 30, guild_limit=2)
    assert await storage.usage.count_today(GUILD, UsageKind.SCENE) == 2


async def test_a_refusal_names_the_limit_that_was_reached_when_both_are_set(
    storage: Storage,
) -> None:
    await reserve(storage, ALICE, guild_limit=2, member_limit=1)
    with pytest.raises(QuotaExceeded) as member_full:
        await reserve(storage, ALICE, guild_limit=2, member_limit=1)
    await reserve(storage, BOB, guild_limit=2, member_limit=1)
    with pytest.raises(QuotaExceeded) as guild_full:
        await reserve(storage, 30, guild_limit=2, member_limit=1)
    assert (member_full.value.scope, member_full.value.limit) == ("member", 1)
    assert (guild_full.value.scope, guild_full.value.limit) == ("guild", 2)


async def test_a_released_slot_can_be_reserved_again(storage: Storage) -> None:
    entry = await reserve(storage, guild_limit=1)
    await storage.usage.settle(entry, succeeded=False)
    await reserve(storage, guild_limit=1)


async def test_concurrent_reservations_on_two_connections_stop_at_the_limit(
    storage: Storage, second_storage: Storage
) -> None:
    async def attempt(ledger: Storage, member: int) -> bool:
        try:
            await reserve(ledger, member, guild_limit=10)
        except QuotaExceeded:
            return False
        return True

    results = await asyncio.gather(
        *(attempt(s, m) for m in range(15) for s in (storage, second_storage))
    )
    assert sum(results) == 10
    assert await storage.usage.count_today(GUILD, UsageKind.SCENE) == 10


async def test_pending_reservations_of_a_crashed_run_are_released(
    storage: Storage, clock: FakeClock
) -> None:
    await reserve(storage)
    clock.advance(minutes=21)  # the next start; with PostgreSQL older holds only are a crash's
    recovery = await storage.recover_after_restart()
    assert recovery.released_reservations == 1
    assert await storage.usage.count_today(GUILD, UsageKind.SCENE) == 0


async def test_summary_gives_counts_and_cost_by_kind_and_the_reset_time(storage: Storage) -> None:
    await record(storage, ALICE)
    await record(storage, BOB)
    await record(storage, ALICE, UsageKind.VIDEO)
    summary = await storage.usage.summary_today(GUILD)
    assert summary.by_kind == {
        UsageKind.SCENE: KindUsage(2, 0.08),
        UsageKind.VIDEO: KindUsage(1, 0.04),
    }
    assert summary.total_cost_usd == pytest.approx(0.12)
    assert (summary.day.isoformat(), summary.resets_at) == ("2026-05-01", next_utc_midnight(START))


async def test_a_video_job_that_carries_on_after_a_restart_keeps_its_quota_slot(
    storage: Storage,
    clock: FakeClock,
) -> None:
    scene = await new_scene(storage)
    kept, interrupted = await reserve(storage), await reserve(storage)
    job = await storage.jobs.create(
        scene_id=scene.id,
        guild_id=GUILD,
        channel_id=scene.channel_id,
        message_id=None,
        image_version=1,
        usage_id=kept,
    )
    await storage.jobs.claim(job.id)
    await storage.jobs.begin_submit(job.id)
    await storage.jobs.mark_submitted(job.id, "req-1", START)
    clock.advance(minutes=21)  # the next start; with PostgreSQL older holds only are a crash's
    recovery = await storage.recover_after_restart()
    assert recovery.released_reservations == 1  # only the slot no job carries on with
    assert await storage.usage.count_today(GUILD, UsageKind.SCENE) == 1
    assert (await storage.usage.settle(kept, succeeded=True)).outcome == "ok"
    with pytest.raises(NotFound):
        await storage.usage.settle(interrupted, succeeded=True)


async def test_a_reported_cost_replaces_the_estimate_when_a_reservation_settles(
    storage: Storage,
) -> None:
    reported = await reserve(storage)
    estimated = await reserve(storage)

    settled = await storage.usage.settle(reported, succeeded=True, cost_usd=0.0123)
    await storage.usage.settle(estimated, succeeded=True)

    assert settled.cost_usd == pytest.approx(0.0123)
    summary = await storage.usage.summary_today(GUILD)
    assert summary.by_kind[UsageKind.SCENE].cost_usd == pytest.approx(0.0123 + 0.04)
