"""Several processes on one PostgreSQL (SPEC §11): a worker SIGKILLed at each job state loses
no job, and no job is sent to the provider twice; the quota ledger stays exact.

Three processes work on the jobs: one is killed mid-job (its lease is 1 s here), the two
others carry on until every job is finished, taking over the dead one's job when its lease
runs out. The "provider" is a shared log with one line per request sent.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from storage import JobFailure, JobState, Storage, UsageKind, VideoJob
from tests.storage.builders import AUTHOR, CHANNEL, GUILD, new_scene
from tests.storage.spawn import run_to_completion, run_until_ready_then_kill
from tests.storage.worker import STOP_STATES

JOBS = 6
MP4 = b"mp4 made by a worker"


async def queue_jobs(storage: Storage) -> list[VideoJob]:
    """JOBS video jobs, each holding its video quota slot as Animate does."""
    jobs = []
    for _ in range(JOBS):
        scene = await new_scene(storage)
        slot = await storage.usage.reserve(
            guild_id=GUILD, member_id=AUTHOR, kind=UsageKind.VIDEO, model_key="video",
            cost_usd=0.5, guild_limit=JOBS, member_limit=None,
        )  # fmt: skip
        job = await storage.jobs.create(
            scene_id=scene.id, guild_id=GUILD, channel_id=CHANNEL, message_id=1,
            image_version=scene.image_version, usage_id=slot.id,
        )  # fmt: skip
        jobs.append(job)
    return jobs


@pytest.mark.parametrize("state", STOP_STATES)
async def test_a_worker_killed_mid_job_loses_nothing_and_sends_nothing_twice(
    postgres_url: str, tmp_path: Path, state: str
) -> None:
    storage = await Storage.open(tmp_path / "test", database_url=postgres_url)
    try:
        jobs = await queue_jobs(storage)
        sent = tmp_path / "provider.log"
        sent.touch()
        env = {"PROVIDER_LOG": str(sent), "JOB_LEASE_MS": "1000"}
        line = await run_until_ready_then_kill(
            "stop-at", tmp_path / "victim", STOP_STATES.index(state),
            database_url=postgres_url, env=env,
        )  # fmt: skip
        victim = int(line.split()[1])
        survivors = await asyncio.gather(
            *(
                run_to_completion(
                    "work", tmp_path / f"survivor-{i}", database_url=postgres_url, env=env
                )
                for i in range(2)
            )
        )
        assert survivors == ["DONE", "DONE"]
        sends = Counter(int(job_id) for job_id in sent.read_text().split())
        final = {job.id: await storage.jobs.get(job.id) for job in jobs}
        await _assert_outcome(storage, final, sends, victim, interrupted=state == "submitting")
    finally:
        await storage.close()


async def _assert_outcome(
    storage: Storage,
    final: dict[int, VideoJob | None],
    sends: Counter[int],
    victim: int,
    *,
    interrupted: bool,
) -> None:
    assert all(job is not None and job.finished for job in final.values()), "a job was lost"
    assert set(sends.values()) == {1}, f"a request was sent twice: {sends}"
    assert set(sends) == set(final), "every job was sent exactly once"
    done = [job for job in final.values() if job is not None and job.state is JobState.DONE]
    if interrupted:  # the request may be on the wire: reported, never resent
        dead = final[victim]
        assert dead is not None
        assert (dead.state, dead.reason, dead.reported) == (
            JobState.FAILED,
            JobFailure.INTERRUPTED,
            False,
        )
        assert len(done) == JOBS - 1
    else:
        assert len(done) == JOBS
    for job in done:
        assert await storage.media.read_video(job.scene_id) == MP4
    # The quota counts exactly the delivered videos; nothing is left pending.
    assert await storage.usage.count_today(GUILD, UsageKind.VIDEO) == len(done)
    pending = await storage.db.fetch_one(
        "SELECT COUNT(*) AS n FROM usage WHERE outcome = 'pending'"
    )
    assert pending is not None
    assert pending["n"] == 0
