"""Video jobs end to end (SPEC §5 Animate, §8 video jobs, §10 failures): the real bot, the
Discord stand-in and the xAI stand-in; the loop polls every 0.05 s."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from storage import JobState, VideoJob
from tests.e2e.harness import OPERATOR_ID, Harness
from tests.e2e.helpers import (
    VIDEOS_USED,
    custom_id,
    embed_fields,
    message_bodies,
    refusal_text,
    regenerated,
    start_story,
    tiny_tier,
    usage_field,
    write_tiers,
)
from tests.fakes.discord import StoredMessage
from tests.fakes.pictures import mp4
from tests.fakes.xai_api import FILES, POLL, VIDEOS, VideoOutcome

WITHIN = 10.0  # seconds a test waits for the loop before it gives up


def _video_field(message: StoredMessage) -> str:
    return embed_fields(message).get("Video", "")


async def _animate(harness: Harness, scene: StoredMessage) -> StoredMessage:
    """Press Animate; the click must be answered by editing the scene message."""
    ix = await harness.discord.click(scene, custom_id(scene, "animate"))
    answer = await ix.wait_for_final()
    assert answer is not None
    assert answer.id == scene.id, "Animate is acknowledged on the scene message itself"
    assert not ix.ephemeral
    return answer


async def _until_video(harness: Harness, scene: StoredMessage) -> None:
    await harness.discord.until(
        lambda: "scene.mp4" in scene.filenames, WITHIN, "for the MP4 on the scene message"
    )


async def _until_video_says(harness: Harness, scene: StoredMessage, text: str) -> None:
    await harness.discord.until(
        lambda: text in _video_field(scene), WITHIN, f"for the scene to say {text!r}"
    )


async def _job_when(
    harness: Harness, scene_id: int, ready: Callable[[VideoJob], bool], what: str
) -> VideoJob:
    """The scene's latest job once `ready` holds for it (polled; bounded by WITHIN)."""
    assert harness.bot is not None
    jobs = harness.bot.services.storage.jobs
    job = None
    for _ in range(int(WITHIN / 0.02)):
        job = await jobs.for_scene(scene_id)
        if job is not None and ready(job):
            return job
        await asyncio.sleep(0.02)
    raise AssertionError(f"the video job of scene {scene_id} {what}: {job}")


async def _settled_job(harness: Harness, scene_id: int = 1) -> VideoJob:
    """The scene's latest job once it is finished and its outcome reported on the message."""
    return await _job_when(
        harness, scene_id, lambda job: job.finished and job.reported, "never settled"
    )


async def _pending_video(harness: Harness) -> StoredMessage:
    """A new story whose scene is animated; its job is submitted and pending until the test
    sets `harness.xai.polls_until_done` low again."""
    harness.xai.polls_until_done = 1_000_000
    scene = await start_story(harness)
    await _animate(harness, scene)
    await _until_submitted(harness)
    return scene


async def test_animate_attaches_the_mp4_to_the_same_message_next_to_the_picture(
    harness: Harness,
) -> None:
    bot = await harness.start()
    scene = await start_story(harness)
    picture = scene.attachments[0].data
    answer = await _animate(harness, scene)
    assert "Animating" in _video_field(answer)
    await _until_video(harness, scene)
    assert scene.filenames == ["scene.png", "scene.mp4"]
    (submit,) = harness.xai.requests_to(VIDEOS)
    assert submit.images[0].mime_type == "image/png"
    assert submit.images[0].data == picture
    assert (submit.fields["aspect_ratio"], submit.fields["resolution"]) == ("1:1", "720p")
    (request_id,) = harness.xai.jobs
    served = harness.xai.video_bytes(request_id)
    assert scene.attachments[1].data == served
    assert scene.attachments[0].data == picture
    assert "attached" in _video_field(scene)
    discord = harness.discord
    await discord.until(lambda: len(discord.messages_in()) == 2, WITHIN, "for the reply")
    scene_message, reply = discord.messages_in()
    assert scene_message.id == scene.id
    assert not reply.attachments, "the video is on the scene message, not in a new one"
    storage = bot.services.storage
    assert storage.media.video_path(1).read_bytes() == served
    assert (harness.data_dir / "videos" / "1.mp4").exists()
    assert (await _settled_job(harness)).state is JobState.DONE
    assert (await usage_field(harness, VIDEOS_USED)).startswith("1 of")


async def test_the_member_who_pressed_animate_alone_is_pinged_when_the_video_is_ready(
    harness: Harness,
) -> None:
    await harness.start()
    discord = harness.discord
    bystander = discord.add_user("bystander")
    scene = await start_story(harness, f"A fox meets <@{bystander.id}> and @everyone", user=601)
    ix = await discord.click(scene, custom_id(scene, "animate"), user=777)
    await ix.wait_for_final()
    await _until_video(harness, scene)
    await discord.until(lambda: len(discord.messages_in()) == 2, WITHIN, "for the reply")
    reply = discord.messages_in()[1]
    assert reply.content == "<@777> your video of scene 1 is ready."
    (body,) = [
        b for b in message_bodies(harness) if (b.get("message_reference") or {}).get("message_id")
    ]
    assert str(body["message_reference"]["message_id"]) == str(scene.id)
    mentions = body["allowed_mentions"]
    assert mentions["parse"] == [], "no @everyone, no roles"
    assert [str(user) for user in mentions["users"]] == ["777"], "the presser, not the author"
    assert mentions["replied_user"] is False


async def _until_submitted(harness: Harness, scene_id: int = 1) -> VideoJob:
    """Wait until the scene's job holds the provider's request id (the video is pending)."""
    return await _job_when(
        harness, scene_id, lambda job: job.state is JobState.SUBMITTED, "was never submitted"
    )


async def test_animate_again_while_pending_or_done_is_refused_and_submits_nothing(
    harness: Harness,
) -> None:
    await harness.start()
    scene = await _pending_video(harness)
    again = await harness.discord.click(scene, custom_id(scene, "animate"))
    assert "already being animated" in await refusal_text(again)
    harness.xai.polls_until_done = 1
    await _until_video(harness, scene)
    await _settled_job(harness)
    third = await harness.discord.click(scene, custom_id(scene, "animate"))
    assert "already animated" in await refusal_text(third)
    assert len(harness.xai.requests_to(VIDEOS)) == 1
    assert scene.filenames == ["scene.png", "scene.mp4"]


async def test_story_started_with_video_is_animated_without_a_click(harness: Harness) -> None:
    await harness.start()
    scene = await start_story(harness, options={"video": True})
    assert scene.filenames[0] == "scene.png"
    await _until_video(harness, scene)
    assert scene.filenames == ["scene.png", "scene.mp4"]
    assert len(harness.xai.requests_to(VIDEOS)) == 1
    assert (await _settled_job(harness)).state is JobState.DONE
    assert (await usage_field(harness, VIDEOS_USED)).startswith("1 of")


async def _fails_with(harness: Harness, outcome: VideoOutcome | None, *words: str) -> VideoJob:
    """Animate a new story's scene whose video ends like `outcome`; the message must say why."""
    if outcome is not None:
        harness.xai.script(outcome)
    scene = await start_story(harness)
    await _animate(harness, scene)
    job = await _settled_job(harness)
    assert job.state is JobState.FAILED
    shown = _video_field(scene)
    assert shown.startswith("❌ No video"), shown
    for word in words:
        assert word in shown, (word, shown)
    assert scene.filenames == ["scene.png"], "no video attached"
    assert (await usage_field(harness, VIDEOS_USED)).startswith("0 of"), (
        "a failed video is not counted"
    )
    return job


async def test_a_video_the_provider_fails_says_its_reason_on_the_message(
    harness: Harness,
) -> None:
    await harness.start()
    await _fails_with(harness, VideoOutcome.failed("the GPU caught fire"), "the GPU caught fire")


async def test_an_expired_video_job_says_it_expired(harness: Harness) -> None:
    await harness.start()
    await _fails_with(harness, VideoOutcome("expired"), "expired")


async def test_a_moderated_video_says_the_provider_declined(harness: Harness) -> None:
    await harness.start()
    await _fails_with(harness, VideoOutcome("moderated"), "declined", "moderation")


async def test_a_video_url_that_404s_fails_the_job_with_a_message(harness: Harness) -> None:
    await harness.start()
    await _fails_with(harness, VideoOutcome("missing_file"), "xAI")
    assert harness.xai.requests_to(FILES), "the download was tried"
    assert not (harness.data_dir / "videos" / "1.mp4").exists()


async def test_a_video_not_done_before_the_timeout_is_given_up_and_says_so(
    harness: Harness,
) -> None:
    harness.env(VIDEO_TIMEOUT_SECONDS="2")  # time to submit and poll on a loaded machine
    await harness.start()
    await _fails_with(harness, VideoOutcome("never"), "not ready in time")
    assert harness.xai.requests_to(POLL), "it was polled before being given up"


async def test_an_mp4_over_the_upload_limit_is_kept_on_disk_and_the_message_says_so(
    harness: Harness,
) -> None:
    await harness.start()
    harness.discord.set_upload_limit(harness.discord.guild, 2000)
    harness.xai.script(VideoOutcome.oversize(5000))
    scene = await start_story(harness)
    await _animate(harness, scene)
    job = await _settled_job(harness)
    assert job.state is JobState.DONE
    assert "too large to attach" in _video_field(scene)
    assert scene.filenames == ["scene.png"]
    assert (harness.data_dir / "videos" / "1.mp4").read_bytes() == mp4(5000)
    assert (await usage_field(harness, VIDEOS_USED)).startswith("1 of")


async def test_a_boosted_servers_20_mib_video_finished_at_start_up_is_attached(
    harness: Harness,
) -> None:
    """The loop waits for the gateway to be ready, so the guild's 50 MiB limit (boost tier 2)
    is known before a video that finished while the bot was down is judged."""
    harness.discord.set_boost_tier(harness.discord.guild, 2)
    await harness.start()
    scene = await _pending_video(harness)
    await harness.stop()
    (request_id,) = harness.xai.jobs
    harness.xai.jobs[request_id].outcome = VideoOutcome.oversize(20 << 20)  # 10-50 MiB
    harness.xai.polls_until_done = 0
    harness.discord.gateway.ready_delay = 0.5  # READY comes late, as from a busy Discord
    await harness.start()
    await _until_video(harness, scene)
    assert scene.filenames == ["scene.png", "scene.mp4"]
    assert len(scene.attachments[1].data) == 20 << 20
    assert "too large" not in _video_field(scene)


async def test_discord_errors_on_the_edit_are_retried_until_the_video_is_attached(
    harness: Harness,
) -> None:
    await harness.start()
    scene = await start_story(harness)
    edits = rf"/channels/{scene.channel_id}/messages/{scene.id}"
    await _animate(harness, scene)
    harness.discord.fail("PATCH", edits, 503, times=3)
    harness.discord.fail("PATCH", edits, 429, times=2, retry_after=0.05)
    await _until_video(harness, scene)
    faulted = [r for r in harness.discord.requests_to("PATCH", edits) if r.fault]
    assert len(faulted) == 5
    assert scene.filenames == ["scene.png", "scene.mp4"]
    assert (await _settled_job(harness)).state is JobState.DONE


async def test_a_deleted_scene_message_is_reposted_with_its_video_and_others_carry_on(
    harness: Harness,
) -> None:
    await harness.start()
    harness.xai.polls_until_done = 1_000_000
    gone = await start_story(harness, "A lost map")
    kept = await start_story(harness, "A found map")
    await _animate(harness, gone)
    await _animate(harness, kept)
    await _until_submitted(harness, 1)
    await _until_submitted(harness, 2)
    gone.deleted = True  # a member deleted the scene while its video was being made
    harness.xai.polls_until_done = 1
    await _until_video(harness, kept)
    assert (await _settled_job(harness, 1)).state is JobState.DONE
    assert (await _settled_job(harness, 2)).state is JobState.DONE
    (repost,) = [
        m
        for m in harness.discord.messages_in()
        if m.id not in (gone.id, kept.id) and "ready" not in m.content  # kept's reply
    ]
    assert repost.filenames == ["scene.png", "scene.mp4"]
    assert repost.embeds[0]["title"] == "A lost map"
    assert [b["label"] for b in repost.buttons()] == ["Regenerate", "Animate", "Continue"]
    assert kept.filenames == ["scene.png", "scene.mp4"]


async def test_a_restart_while_a_video_is_pending_carries_on_without_a_second_submit(
    harness: Harness,
) -> None:
    await harness.start()
    scene = await _pending_video(harness)
    await harness.restart()
    harness.xai.polls_until_done = 1
    await _until_video(harness, scene)
    assert len(harness.xai.requests_to(VIDEOS)) == 1, "the job was not submitted twice"
    assert (await _settled_job(harness)).state is JobState.DONE
    (request_id,) = harness.xai.jobs
    assert scene.attachments[1].data == harness.xai.video_bytes(request_id)


async def test_a_video_pending_across_a_restart_still_counts_against_the_quota(
    harness: Harness,
) -> None:
    await harness.start()
    scene = await _pending_video(harness)
    await harness.restart()
    assert (await usage_field(harness, VIDEOS_USED)).startswith("1 of"), (
        "the pending video holds its slot"
    )
    harness.xai.polls_until_done = 1
    await _until_video(harness, scene)
    await _settled_job(harness)
    assert (await usage_field(harness, VIDEOS_USED)).startswith("1 of"), (
        "the video counts once done"
    )


async def test_a_job_cut_off_while_submitting_is_marked_interrupted_and_animate_starts_anew(
    harness: Harness,
) -> None:
    bot = await harness.start()
    assert bot.video_loop is not None
    bot.video_loop.stop()  # the loop must not take the job before the "crash"
    scene = await start_story(harness)
    await _animate(harness, scene)
    jobs = bot.services.storage.jobs
    first = await jobs.for_scene(1)
    assert first is not None
    await jobs.claim(first.id)
    await jobs.begin_submit(first.id)  # the process dies here, request sent or not
    await harness.restart()
    interrupted = await _settled_job(harness)
    assert (interrupted.id, interrupted.state) == (first.id, JobState.FAILED)
    assert "restart interrupted it" in _video_field(scene)
    assert "press Animate" in _video_field(scene)
    assert not harness.xai.requests_to(VIDEOS), "an interrupted job is never sent blindly"
    assert (await usage_field(harness, VIDEOS_USED)).startswith("0 of")
    await _animate(harness, scene)
    await _until_video(harness, scene)
    assert len(harness.xai.requests_to(VIDEOS)) == 1
    assert (await _settled_job(harness)).state is JobState.DONE


async def test_regenerate_while_a_video_is_pending_drops_it_and_never_attaches_it(
    harness: Harness,
) -> None:
    await harness.start()
    harness.xai.polls_until_done = 1_000_000
    harness.xai.script(VideoOutcome.oversize(5000), VideoOutcome.oversize(6000))
    scene = await start_story(harness)
    await _animate(harness, scene)
    stale = await _until_submitted(harness)
    harness.openai.color = (200, 30, 30)
    await harness.discord.click(scene, custom_id(scene, "regen"))
    await regenerated(harness, scene)
    assert harness.bot is not None
    dropped = await harness.bot.services.storage.jobs.get(stale.id)
    assert dropped is not None
    assert (dropped.state, dropped.reason) == (JobState.FAILED, "superseded")
    assert scene.filenames == ["scene.png"]
    assert "Video" not in embed_fields(scene), "the new picture has no video yet"
    harness.xai.polls_until_done = 1
    await _animate(harness, scene)
    await _until_video(harness, scene)
    first, second = harness.xai.requests_to(VIDEOS)
    assert second.images[0].data == scene.attachments[0].data == harness.openai.picture
    assert first.images[0].data != second.images[0].data
    assert scene.attachments[1].data == mp4(6000), "only the new picture's video"
    uploads = [
        f
        for r in harness.discord.requests_to("*", r".*")
        for f in r.files
        if f.filename == "scene.mp4"
    ]
    assert len(uploads) == 1, "the stale video was never uploaded"
    assert (await usage_field(harness, VIDEOS_USED)).startswith("1 of"), (
        "the dropped video is not counted"
    )


async def test_animate_is_refused_ephemerally_once_the_tier_has_no_video(harness: Harness) -> None:
    """A scene posted while the server's tier had video keeps its Animate button; pressed after
    the server moved to a tier without video, it is refused."""
    await harness.start()
    scene = await start_story(harness)
    tier = await harness.discord.slash(
        "settings", "tier", options={"tier": "free"}, user=OPERATOR_ID
    )
    await tier.wait_for_final()
    ix = await harness.discord.click(scene, custom_id(scene, "animate"))
    assert "not available" in await refusal_text(ix)
    assert not harness.xai.requests_to(VIDEOS)
    assert "Video" not in embed_fields(scene)


async def test_animate_over_the_videos_per_day_quota_is_refused_ephemerally(
    harness: Harness, tmp_path: Path
) -> None:
    tiers = write_tiers(tmp_path / "tiers.toml", small=tiny_tier(video=True, videos_per_day=1))
    harness.env(TIERS_FILE=str(tiers), DEFAULT_TIER="small")
    await harness.start()
    first = await start_story(harness, "One")
    second = await start_story(harness, "Two")
    await _animate(harness, first)
    ix = await harness.discord.click(second, custom_id(second, "animate"))
    refused = await refusal_text(ix)
    assert "This server has used the 1 video allowed today" in refused
    assert "resets" in refused
    await _until_video(harness, first)
    assert len(harness.xai.requests_to(VIDEOS)) == 1
    assert "Video" not in embed_fields(second)


async def test_a_video_ready_before_its_scene_is_posted_still_reaches_the_message(
    harness: Harness,
) -> None:
    await harness.start()
    # Discord is slow to show the scene: the video is done before the bot knows the message.
    harness.discord.slow("PATCH", r"/webhooks/\d+/[^/]+/messages/@original", 1.0)
    scene = await start_story(harness, options={"video": True})
    await _until_video(harness, scene)
    assert scene.filenames == ["scene.png", "scene.mp4"]
    assert "attached" in _video_field(scene)


async def test_a_reposted_scene_gets_its_next_video_on_the_reposted_message(
    harness: Harness,
) -> None:
    await harness.start()
    harness.xai.script(VideoOutcome.failed("try later"))
    scene = await start_story(harness)
    await _animate(harness, scene)
    scene.deleted = True
    await harness.discord.until(lambda: len(harness.discord.messages_in()) == 1, WITHIN)
    (repost,) = harness.discord.messages_in()
    await _settled_job(harness)
    assert "try later" in _video_field(repost)
    await _animate(harness, repost)
    await _until_video(harness, repost)
    assert [m.id for m in harness.discord.messages_in()] == [repost.id], "no second repost"


async def test_a_deleted_scene_with_a_too_large_video_is_reposted_saying_so(
    harness: Harness,
) -> None:
    await harness.start()
    harness.discord.set_upload_limit(harness.discord.guild, 2000)
    harness.xai.script(VideoOutcome.oversize(5000))
    scene = await start_story(harness)
    await _animate(harness, scene)
    scene.deleted = True
    await harness.discord.until(lambda: len(harness.discord.messages_in()) == 1, WITHIN)
    (repost,) = harness.discord.messages_in()
    assert (await _settled_job(harness)).state is JobState.DONE
    assert repost.filenames == ["scene.png"]
    assert "too large to attach" in _video_field(repost)
    assert (harness.data_dir / "videos" / "1.mp4").read_bytes() == mp4(5000)
