"""A process killed with SIGKILL mid-way: the next start recovers as SPEC §8 says."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage import IllegalTransition, JobFailure, JobState, Storage, UsageKind, utc_now
from tests.storage.builders import new_job, new_story
from tests.storage.spawn import run_to_completion, run_until_ready_then_kill


async def restart(data_dir: Path) -> Storage:
    return await Storage.open(data_dir)


async def test_a_job_killed_while_submitting_is_reported_interrupted_and_never_resent(
    data_dir: Path,
) -> None:
    before = await Storage.open(data_dir)
    job = await new_job(before)
    await before.close()

    assert await run_until_ready_then_kill("submit-and-hang", data_dir) == f"READY {job.id}"

    after = await restart(data_dir)
    try:
        recovery = await after.recover_after_restart()
        assert [j.id for j in recovery.interrupted_jobs] == [job.id]
        interrupted = recovery.interrupted_jobs[0]
        assert (interrupted.state, interrupted.reason) == (JobState.FAILED, JobFailure.INTERRUPTED)
        assert interrupted.provider_request_id is None
        assert await after.jobs.claim_due(now=utc_now()) == []
        with pytest.raises(IllegalTransition):
            await after.jobs.begin_submit(job.id)
        assert [j.id for j in await after.jobs.unreported()] == [job.id]
    finally:
        await after.close()


async def test_a_job_claimed_but_not_yet_sent_by_a_killed_process_is_sent_after_restart(
    data_dir: Path,
) -> None:
    before = await Storage.open(data_dir)
    job = await new_job(before)
    await before.close()

    await run_until_ready_then_kill("claim-and-hang", data_dir)

    after = await restart(data_dir)
    try:
        recovery = await after.recover_after_restart()
        assert recovery.interrupted_jobs == []
        claimed = await after.jobs.claim_due(now=utc_now())
        assert [(j.id, j.state) for j in claimed] == [(job.id, JobState.QUEUED)]
    finally:
        await after.close()


async def test_a_download_killed_half_way_polls_again_and_leaves_no_partial_file(
    data_dir: Path,
) -> None:
    before = await Storage.open(data_dir)
    job = await new_job(before)
    await before.jobs.claim(job.id)
    await before.jobs.begin_submit(job.id)
    await before.jobs.mark_submitted(job.id, "req-7", utc_now())
    await before.close()

    await run_until_ready_then_kill("download-and-hang", data_dir)

    after = await restart(data_dir)
    try:
        assert list(after.media.videos_dir.iterdir()) != [], "the worker left a temp file"
        recovery = await after.recover_after_restart()
        assert [j.id for j in recovery.resumed_downloads] == [job.id]
        assert recovery.removed_temp_files == 1
        assert list(after.media.videos_dir.iterdir()) == []
        claimed = await after.jobs.claim_due(now=utc_now())
        assert [(j.id, j.state, j.provider_request_id) for j in claimed] == [
            (job.id, JobState.SUBMITTED, "req-7")
        ]
    finally:
        await after.close()


async def test_a_process_killed_inside_a_transaction_leaves_no_change_and_no_lock(
    data_dir: Path,
) -> None:
    await (await Storage.open(data_dir)).close()
    await run_until_ready_then_kill("hang-in-transaction", data_dir)
    after = await Storage.open(data_dir, busy_timeout_ms=1_000)
    try:
        assert await after.meta.get("uncommitted") is None
        await after.meta.set("written", "after the crash")  # the write lock is free again
    finally:
        await after.close()


async def test_two_processes_appending_scenes_lose_no_update(
    data_dir: Path, database_url: str | None
) -> None:
    storage = await Storage.open(data_dir, database_url=database_url)
    story = await new_story(storage)
    lines = await asyncio.gather(
        *(
            run_to_completion("append-scenes", data_dir, story.id, 40, database_url=database_url)
            for _ in range(2)
        )
    )
    try:
        assert list(lines) == ["DONE", "DONE"]
        numbers = [s.number for s in await storage.scenes.list_for_story(story.id)]
        assert numbers == list(range(1, 81))
    finally:
        await storage.close()


async def test_three_processes_reserving_quota_never_overshoot_the_limit(
    data_dir: Path, database_url: str | None
) -> None:
    await (await Storage.open(data_dir, database_url=database_url)).close()
    lines = await asyncio.gather(
        *(
            run_to_completion("reserve", data_dir, 30, 25, database_url=database_url)
            for _ in range(3)
        )
    )
    storage = await Storage.open(data_dir, database_url=database_url)
    try:
        assert sum(int(line.split()[1]) for line in lines) == 25
        assert await storage.usage.count_today(1, UsageKind.SCENE) == 25
    finally:
        await storage.close()
