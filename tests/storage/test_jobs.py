"""Video jobs: the state machine, claiming due jobs, one active job per scene, recovery."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from storage import (
    IllegalTransition,
    JobAlreadyActive,
    JobFailure,
    JobState,
    LeaseLost,
    NotFound,
    Storage,
    UsageKind,
    VideoJob,
)
from storage.jobs import TRANSITIONS, VideoJobRepository
from tests.storage.builders import START, FakeClock, new_job, new_scene

Move = Callable[[Storage, int], Awaitable[VideoJob]]
LATER = START + timedelta(seconds=5)

# Every public move: (how to call it, the state it leads to, the states it may start from).
MOVES: dict[str, tuple[Move, JobState, set[JobState]]] = {
    "begin_submit": (
        lambda s, j: s.jobs.begin_submit(j),
        JobState.SUBMITTING,
        {JobState.QUEUED},
    ),
    "requeue": (
        lambda s, j: s.jobs.requeue(j, LATER),
        JobState.QUEUED,
        {JobState.SUBMITTING},
    ),
    "mark_submitted": (
        lambda s, j: s.jobs.mark_submitted(j, "req-1", LATER),
        JobState.SUBMITTED,
        {JobState.SUBMITTING},
    ),
    "schedule_poll": (
        lambda s, j: s.jobs.schedule_poll(j, LATER),
        JobState.SUBMITTED,
        {JobState.SUBMITTED},
    ),
    "begin_download": (
        lambda s, j: s.jobs.begin_download(j),
        JobState.DOWNLOADING,
        {JobState.SUBMITTED},
    ),
    "retry_download": (
        lambda s, j: s.jobs.retry_download(j, LATER),
        JobState.SUBMITTED,
        {JobState.DOWNLOADING},
    ),
    "mark_done": (lambda s, j: s.jobs.mark_done(j), JobState.DONE, {JobState.DOWNLOADING}),
    "fail": (
        lambda s, j: s.jobs.fail(j, JobFailure.DECLINED, "provider said no"),
        JobState.FAILED,
        {JobState.QUEUED, JobState.SUBMITTING, JobState.SUBMITTED, JobState.DOWNLOADING},
    ),
}
PATH_TO: dict[JobState, list[str]] = {
    JobState.QUEUED: [],
    JobState.SUBMITTING: ["begin_submit"],
    JobState.SUBMITTED: ["begin_submit", "mark_submitted"],
    JobState.DOWNLOADING: ["begin_submit", "mark_submitted", "begin_download"],
    JobState.DONE: ["begin_submit", "mark_submitted", "begin_download", "mark_done"],
    JobState.FAILED: ["fail"],
}


async def job_in(storage: Storage, state: JobState) -> VideoJob:
    """A job walked to `state` by this storage's worker (leasing it before each move)."""
    job = await new_job(storage)
    for name in PATH_TO[state]:
        await storage.jobs.claim(job.id)  # None while a risky step keeps the lease held
        job = await MOVES[name][0](storage, job.id)
    assert job.state is state
    return job


def test_the_moves_cover_exactly_the_documented_transitions() -> None:
    edges = {(source, target) for _, target, sources in MOVES.values() for source in sources}
    documented = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert edges == documented


@pytest.mark.parametrize("state", list(JobState))
@pytest.mark.parametrize("move", sorted(MOVES))
async def test_a_move_succeeds_only_from_its_legal_states(
    storage: Storage, state: JobState, move: str
) -> None:
    call, target, sources = MOVES[move]
    job = await job_in(storage, state)
    job = await storage.jobs.claim(job.id) or job
    if state in sources:
        assert (await call(storage, job.id)).state is target
        return
    with pytest.raises(IllegalTransition) as refused:
        await call(storage, job.id)
    assert (refused.value.current, refused.value.target) == (state.value, target.value)
    assert await storage.jobs.get(job.id) == job, "a refused move must not change the row"


async def test_moving_a_missing_job_raises_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound):
        await storage.jobs.begin_submit(404)


async def test_a_job_walks_the_happy_path_keeping_what_the_loop_needs(
    storage: Storage, clock: FakeClock
) -> None:
    job = await new_job(storage)
    assert (job.state, job.next_poll_at, job.attempts, job.reported) == ("queued", START, 0, False)
    assert [j.id for j in await storage.jobs.claim_due()] == [job.id]
    await storage.jobs.begin_submit(job.id)
    clock.advance(seconds=1)
    submitted = await storage.jobs.mark_submitted(job.id, "req-42", LATER)
    assert (submitted.provider_request_id, submitted.submitted_at) == ("req-42", clock.now)
    assert submitted.lease_owner is None, "the worker's turn ends once the id is committed"
    clock.now = LATER
    assert [j.id for j in await storage.jobs.claim_due()] == [job.id]
    polled = await storage.jobs.schedule_poll(job.id, LATER + timedelta(seconds=5))
    assert (polled.attempts, polled.next_poll_at) == (1, LATER + timedelta(seconds=5))
    clock.advance(seconds=5)
    assert [j.id for j in await storage.jobs.claim_due()] == [job.id]
    await storage.jobs.begin_download(job.id)
    done = await storage.jobs.mark_done(job.id)
    assert (done.state, done.finished, done.provider_request_id) == (JobState.DONE, True, "req-42")
    assert done.updated_at == clock.now


async def test_a_failed_job_keeps_its_reason(storage: Storage) -> None:
    job = await job_in(storage, JobState.SUBMITTED)
    await storage.jobs.claim(job.id)
    failed = await storage.jobs.fail(job.id, "expired")
    assert (failed.state, failed.reason, failed.finished) == (JobState.FAILED, "expired", True)


async def test_only_one_of_two_racing_submitters_wins(
    storage: Storage, second_storage: Storage
) -> None:
    job = await new_job(storage)

    async def claim_then_submit(worker: Storage) -> VideoJob:
        await worker.jobs.claim_due()
        return await worker.jobs.begin_submit(job.id)

    results = await asyncio.gather(
        claim_then_submit(storage), claim_then_submit(second_storage), return_exceptions=True
    )
    # The loser sees LeaseLost, or IllegalTransition once the winner has moved the job on.
    assert sum(isinstance(r, VideoJob) for r in results) == 1
    assert sum(isinstance(r, IllegalTransition) for r in results) == 1


async def test_a_move_without_the_lease_is_refused(
    storage: Storage, second_storage: Storage, clock: FakeClock
) -> None:
    job = await new_job(storage)
    with pytest.raises(LeaseLost):  # nobody claimed it
        await storage.jobs.begin_submit(job.id)
    assert await second_storage.jobs.claim(job.id) is not None
    with pytest.raises(LeaseLost):  # another worker holds it
        await storage.jobs.begin_submit(job.id)
    clock.advance(seconds=30)  # that worker's lease ran out: the job is free again
    assert await storage.jobs.claim(job.id) is not None
    assert (await storage.jobs.begin_submit(job.id)).lease_owner == storage.jobs.owner
    with pytest.raises(LeaseLost):
        await second_storage.jobs.mark_submitted(job.id, "req-1", LATER)


async def test_a_lease_is_renewed_while_the_work_goes_on(
    storage: Storage, second_storage: Storage, clock: FakeClock
) -> None:
    job = await new_job(storage)
    await storage.jobs.claim(job.id)
    await storage.jobs.begin_submit(job.id)
    for _ in range(4):  # a slow provider: two minutes of renewals every 30 s
        clock.advance(seconds=29)
        assert await storage.jobs.renew_leases() == 1
    assert (await second_storage.jobs.take_over_expired()).interrupted == []
    assert (await storage.jobs.mark_submitted(job.id, "req-1", clock.now)).state == "submitted"


async def dead_in_submitting(storage: Storage) -> VideoJob:
    """A job its worker claimed and began to send, then the worker's process died."""
    job = await new_job(storage)
    await storage.jobs.claim(job.id)
    await storage.jobs.begin_submit(job.id)
    return job


async def state_in(storage: Storage, job: VideoJob) -> tuple[JobState, str | None, bool]:
    current = await storage.jobs.get(job.id)
    assert current is not None
    return current.state, current.reason, current.reported


async def test_a_worker_dead_in_submitting_is_interrupted_by_another_never_resent(
    storage: Storage, second_storage: Storage, clock: FakeClock
) -> None:
    job = await dead_in_submitting(storage)
    clock.advance(seconds=29)
    assert await second_storage.jobs.claim_due() == []
    clock.advance(seconds=1)
    assert await second_storage.jobs.claim_due() == []  # taken over, but not to be sent
    assert await state_in(second_storage, job) == (JobState.FAILED, JobFailure.INTERRUPTED, False)


async def test_a_claim_without_take_over_leaves_a_dead_workers_job_to_the_next_that_takes_over(
    storage: Storage, second_storage: Storage, clock: FakeClock
) -> None:
    job = await dead_in_submitting(storage)
    clock.advance(seconds=30)
    assert await second_storage.jobs.claim_due(take_over=False) == []
    assert (await state_in(second_storage, job))[0] is JobState.SUBMITTING
    assert await second_storage.jobs.claim_due() == []  # taken over, but not to be sent
    assert await state_in(second_storage, job) == (JobState.FAILED, JobFailure.INTERRUPTED, False)


def test_a_lease_lasts_at_most_30_seconds(storage: Storage) -> None:
    with pytest.raises(ValueError, match="at most"):
        VideoJobRepository(storage.db, lease=timedelta(seconds=31))


async def test_a_scene_has_at_most_one_unfinished_job(storage: Storage) -> None:
    scene = await new_scene(storage)
    first = await new_job(storage, scene)
    with pytest.raises(JobAlreadyActive):
        await new_job(storage, scene)
    await storage.jobs.claim(first.id)
    await storage.jobs.fail(first.id, JobFailure.INTERRUPTED)
    again = await new_job(storage, scene)  # Animate after an interruption starts a new job
    assert await storage.jobs.for_scene(scene.id) == again


async def test_a_job_for_a_missing_scene_is_refused(storage: Storage) -> None:
    with pytest.raises(NotFound):
        await storage.jobs.create(
            scene_id=404, guild_id=1, channel_id=1, message_id=None, image_version=1
        )


async def test_for_scene_finds_the_latest_job_or_none(storage: Storage) -> None:
    scene = await new_scene(storage)
    assert await storage.jobs.for_scene(scene.id) is None
    job = await new_job(storage, scene)
    assert await storage.jobs.for_scene(scene.id) == job


async def test_claim_due_returns_queued_jobs_and_submitted_jobs_due_for_a_poll(
    storage: Storage,
) -> None:
    queued = await job_in(storage, JobState.QUEUED)
    due = await job_in(storage, JobState.SUBMITTED)  # next poll at LATER
    for state in (JobState.SUBMITTING, JobState.DOWNLOADING, JobState.DONE, JobState.FAILED):
        await job_in(storage, state)
    assert [j.id for j in await storage.jobs.claim_due(now=START)] == [queued.id]
    assert [j.id for j in await storage.jobs.claim_due(now=LATER)] == [due.id]


async def test_claim_due_respects_the_limit_oldest_first(storage: Storage) -> None:
    jobs = [await new_job(storage) for _ in range(5)]
    claimed = await storage.jobs.claim_due(now=START, limit=3)
    assert [j.id for j in claimed] == [j.id for j in jobs[:3]]


async def test_a_claimed_job_is_hidden_until_its_lease_ends(storage: Storage) -> None:
    job = await new_job(storage)
    lease = timedelta(seconds=30)
    assert storage.jobs.lease == lease
    assert len(await storage.jobs.claim_due(now=START)) == 1
    assert await storage.jobs.claim_due(now=START + timedelta(seconds=29)) == []
    again = await storage.jobs.claim_due(now=START + lease)
    assert [j.id for j in again] == [job.id]


async def test_two_claimers_never_get_the_same_job(
    storage: Storage, second_storage: Storage
) -> None:
    jobs = [await new_job(storage) for _ in range(60)]
    claims = await asyncio.gather(
        *(claimer.jobs.claim_due(now=START, limit=4) for claimer in [storage, second_storage] * 10)
    )
    claimed = [job.id for batch in claims for job in batch]
    assert len(claimed) == len(set(claimed)) == 60
    assert set(claimed) == {job.id for job in jobs}


async def test_claiming_uses_the_due_index_not_a_table_scan(sqlite_storage: Storage) -> None:
    details = await sqlite_storage.jobs.claim_plan()
    assert any("USING INDEX video_jobs_due" in d for d in details), details
    assert not any(d.startswith("SCAN") for d in details), details


async def test_cancel_active_fails_the_unfinished_job_already_reported(storage: Storage) -> None:
    job = await job_in(storage, JobState.SUBMITTED)
    cancelled = await storage.jobs.cancel_active(job.scene_id)
    assert cancelled is not None
    assert (cancelled.state, cancelled.reason, cancelled.reported) == ("failed", "superseded", True)
    with pytest.raises(IllegalTransition):  # the worker still polling it must drop its result
        await storage.jobs.begin_download(job.id)
    assert await storage.jobs.cancel_active(job.scene_id) is None


async def test_finished_jobs_stay_unreported_until_the_message_shows_them(
    storage: Storage,
) -> None:
    done = await job_in(storage, JobState.DONE)
    failed = await job_in(storage, JobState.FAILED)
    active = await job_in(storage, JobState.SUBMITTED)
    assert [j.id for j in await storage.jobs.unreported()] == [done.id, failed.id]
    assert await storage.jobs.mark_reported(done.id) is True
    assert await storage.jobs.mark_reported(active.id) is False
    assert [j.id for j in await storage.jobs.unreported()] == [failed.id]


async def test_recovery_interrupts_submitting_jobs_instead_of_sending_them_again(
    storage: Storage, clock: FakeClock
) -> None:
    sending = await job_in(storage, JobState.SUBMITTING)
    clock.advance(minutes=1)
    recovery = await storage.jobs.recover_after_restart()
    assert [j.id for j in recovery.interrupted] == [sending.id]
    job = recovery.interrupted[0]
    assert (job.state, job.reason, job.reported) == (JobState.FAILED, JobFailure.INTERRUPTED, False)
    assert await storage.jobs.claim_due(now=clock.now + timedelta(days=1)) == []
    assert [j.id for j in await storage.jobs.unreported()] == [sending.id]


async def test_recovery_sends_interrupted_downloads_back_to_polling_now(
    storage: Storage, clock: FakeClock
) -> None:
    downloading = await job_in(storage, JobState.DOWNLOADING)
    clock.advance(minutes=1)
    recovery = await storage.jobs.recover_after_restart()
    assert [j.id for j in recovery.resumed_downloads] == [downloading.id]
    assert [j.id for j in await storage.jobs.claim_due(now=clock.now)] == [downloading.id]
    resumed = await storage.jobs.get(downloading.id)
    assert resumed is not None
    assert resumed.provider_request_id == "req-1"


async def test_recovery_ends_leases_so_unfinished_jobs_carry_on_at_once(
    storage: Storage, clock: FakeClock
) -> None:
    queued = await new_job(storage)
    submitted = await job_in(storage, JobState.SUBMITTED)
    await storage.jobs.claim_due(now=LATER)
    done = await job_in(storage, JobState.DONE)
    clock.advance(seconds=10)
    await storage.jobs.recover_after_restart()
    claimed = await storage.jobs.claim_due(now=clock.now)
    assert [j.id for j in claimed] == [queued.id, submitted.id]
    assert await storage.jobs.get(done.id) == done


async def test_a_job_remembers_the_quota_reservation_it_settles_later(storage: Storage) -> None:
    scene = await new_scene(storage)
    story = await storage.stories.get(scene.story_id)
    assert story is not None
    entry = await storage.usage.reserve(
        guild_id=story.guild_id,
        member_id=story.author_id,
        kind=UsageKind.VIDEO,
        model_key="grok-imagine-video",
        cost_usd=0.5,
        guild_limit=5,
        member_limit=None,
    )
    job = await storage.jobs.create(
        scene_id=scene.id,
        guild_id=story.guild_id,
        channel_id=scene.channel_id,
        message_id=None,
        image_version=1,
        usage_id=entry.id,
    )
    assert (await storage.jobs.get(job.id)) == job
    assert job.usage_id == entry.id


async def test_a_worker_cancelled_while_its_lease_renewal_stops_is_cancelled(
    storage: Storage,
) -> None:
    """A video loop stopped at shutdown must stop: the cancel may arrive while the lease
    renewal is being stopped, and must not be mistaken for the renewal's own."""
    carried_on: list[bool] = []

    async def worker() -> None:
        async with storage.jobs.leases_kept():
            pass
        carried_on.append(True)
        await asyncio.sleep(5)

    task = asyncio.create_task(worker())
    await asyncio.sleep(0)  # the worker runs until it waits for the renewal to stop
    task.cancel()
    await asyncio.wait({task}, timeout=2)
    assert task.cancelled()
    assert carried_on == []
