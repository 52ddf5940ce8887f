"""Fault injection on the Discord side and across the provider boundary (docs/RELIABILITY.md):
each test breaks one thing and checks what the member sees and what is kept; the `invariants`
fixture then checks nothing was left thinking, lost, doubled or wrongly charged."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.logs import configure_logging
from providers.download import Downloader
from storage import JobState, VideoJob
from tests.e2e.harness import Harness
from tests.e2e.helpers import (
    PREMISE,
    SCENES_USED,
    custom_id,
    embed_fields,
    error_after_deferral,
    image_calls,
    no_public_messages,
    regenerated,
    start_story,
    usage_field,
)
from tests.fakes.discord import StoredMessage
from tests.fakes.openai_api import GENERATIONS, error_body
from tests.fakes.xai_api import VIDEOS

STRICT_QUOTA = True  # no story is deleted here: pictures charged == pictures drawn

CALLBACK = r"/interactions/\d+/[^/]+/callback"
ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original"
WITHIN = 10.0
OPENAI_KEY = "sk-test-openai"


async def _job(harness: Harness, scene_id: int, *, settled: bool) -> VideoJob:
    """The scene's latest job once submitted (or, with `settled`, finished and reported)."""
    assert harness.bot is not None
    jobs = harness.bot.services.storage.jobs
    job = None
    for _ in range(int(WITHIN / 0.02)):
        job = await jobs.for_scene(scene_id)
        if job is not None and (
            (job.finished and job.reported) if settled else job.state is JobState.SUBMITTED
        ):
            return job
        await asyncio.sleep(0.02)
    raise AssertionError(f"the video job of scene {scene_id} never got there: {job}")


async def _animate(harness: Harness, scene: StoredMessage) -> None:
    ix = await harness.discord.click(scene, custom_id(scene, "animate"))
    assert await ix.wait_for_final() is not None


# -- Discord: the interaction callback ----------------------------------------------------


async def test_an_unknown_interaction_on_the_deferral_gives_the_quota_back_and_draws_nothing(
    harness: Harness,
) -> None:
    """Discord answers 404 (10062 Unknown interaction) when the 3-second window was missed."""
    await harness.start()
    harness.discord.fail("POST", CALLBACK, 404, times=1)
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE}, wait_ack=False)
    await harness.discord.wait_for_request("POST", CALLBACK)
    await asyncio.sleep(0.3)
    assert ix.ack is None, "Discord never took the deferral"
    assert image_calls(harness) == 0, "nothing is drawn for an interaction nobody can see"
    assert no_public_messages(harness)
    assert (await usage_field(harness, SCENES_USED)).startswith("0 of"), (
        "the held slot was given back"
    )


async def test_a_503_and_a_429_on_the_deferral_are_retried_and_the_scene_arrives(
    harness: Harness,
) -> None:
    await harness.start()
    harness.discord.fail("POST", CALLBACK, 503, times=1)
    harness.discord.fail("POST", CALLBACK, 429, times=1, retry_after=0.05)
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE}, wait_ack=False)
    scene = await ix.wait_for_final(WITHIN)
    assert scene is not None
    faulted = [r for r in harness.discord.requests_to("POST", CALLBACK) if r.fault]
    assert len(faulted) == 2
    assert ix.ack_latency is not None
    assert ix.ack_latency < 3, "still inside Discord's window"
    assert scene.filenames == ["scene.png"]
    assert (await usage_field(harness, SCENES_USED)).startswith("1 of")


# -- Discord: the @original edit ----------------------------------------------------------


async def test_a_429_on_the_original_edit_is_retried_into_the_scene(harness: Harness) -> None:
    await harness.start()
    harness.discord.fail("PATCH", ORIGINAL, 429, times=2, retry_after=0.05)
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE})
    scene = await ix.wait_for_final(WITHIN)
    assert scene is not None
    assert scene.id == ix.original_id, "the deferred reply itself became the scene"
    assert scene.filenames == ["scene.png"]
    assert len(harness.discord.messages_in()) == 1


async def test_a_503_on_the_original_edit_is_retried_into_the_scene(harness: Harness) -> None:
    await harness.start()
    harness.discord.fail("PATCH", ORIGINAL, 503, times=1)
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE})
    scene = await ix.wait_for_final(WITHIN)
    assert scene is not None
    assert scene.id == ix.original_id
    assert len(harness.discord.messages_in()) == 1


async def test_a_lasting_5xx_on_the_original_edit_posts_the_scene_in_the_channel(
    harness: Harness,
) -> None:
    """discord.py retries a webhook 5xx five times (about 25 s of back-off); after that the
    saved scene goes out through the channel and the thinking reply is removed."""
    await harness.start()
    harness.discord.fail("PATCH", ORIGINAL, 503, times=10)
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE})
    await harness.discord.until(
        lambda: any(m.embeds for m in harness.discord.messages_in()), 60, "for the scene"
    )
    scene = next(m for m in harness.discord.messages_in() if m.embeds)
    assert scene.filenames == ["scene.png"]
    assert scene.id != ix.original_id
    await harness.discord.until(
        lambda: ix.original is None or ix.original.deleted, 10, "the placeholder removed"
    )
    assert (await usage_field(harness, SCENES_USED)).startswith("1 of")


async def test_a_token_expired_before_the_scene_was_drawn_posts_it_in_the_channel(
    harness: Harness,
) -> None:
    """Interaction tokens die after 15 minutes (401 on every webhook call): the scene is saved,
    so it is posted through the channel, and its buttons work there."""
    await harness.start()
    harness.openai.queue(GENERATIONS, delay=0.5)
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE})
    harness.discord.expire(ix)
    await harness.discord.until(
        lambda: any(m.embeds for m in harness.discord.messages_in()), WITHIN, "for the scene"
    )
    scene = next(m for m in harness.discord.messages_in() if m.embeds)
    assert scene.filenames == ["scene.png"]
    assert scene.id != ix.original_id
    assert (await usage_field(harness, SCENES_USED)).startswith("1 of"), (
        "the scene was drawn and shown"
    )
    await _animate(harness, scene)  # the posted scene is the one the buttons work on
    await harness.discord.until(lambda: "scene.mp4" in scene.filenames, WITHIN, "for the MP4")


async def test_a_503_on_deleting_the_placeholder_still_ends_in_the_ephemeral_error(
    harness: Harness,
) -> None:
    await harness.start()
    harness.openai.refuse(GENERATIONS, "this prompt is not allowed")
    harness.discord.fail("DELETE", ORIGINAL, 503, times=1)
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE})
    text = await error_after_deferral(harness, ix)
    assert "declined" in text
    assert (await usage_field(harness, SCENES_USED)).startswith("0 of")


async def test_a_placeholder_that_cannot_be_deleted_is_edited_into_the_error(
    harness: Harness,
) -> None:
    await harness.start()
    harness.openai.refuse(GENERATIONS, "this prompt is not allowed")
    harness.discord.fail("DELETE", ORIGINAL, 403, times=1)
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE})
    await harness.discord.until(
        lambda: ix.original is not None and "declined" in ix.original.content,
        WITHIN,
        "for the placeholder to say why",
    )
    assert ix.original is not None
    assert not ix.original.loading
    assert not ix.original.embeds
    assert (await usage_field(harness, SCENES_USED)).startswith("0 of")


async def test_a_regenerate_whose_token_expired_still_replaces_the_picture_in_place(
    harness: Harness,
) -> None:
    await harness.start()
    scene = await start_story(harness)
    before = scene.attachments[0].data
    harness.openai.queue(GENERATIONS, delay=0.5, b64_json=None)
    harness.openai.color = (10, 200, 10)
    ix = await harness.discord.click(scene, custom_id(scene, "regen"))
    harness.discord.expire(ix)
    edited = await regenerated(harness, scene)
    assert edited.filenames == ["scene.png"]
    assert edited.attachments[0].data == harness.openai.picture != before
    assert len(harness.discord.messages_in()) == 1, "the same message, through the bot's token"
    assert (await usage_field(harness, SCENES_USED)).startswith("2 of"), "charged once"


# -- gateway and channels while videos are pending ----------------------------------------


async def test_a_gateway_drop_while_a_video_is_pending_still_delivers_it_once(
    harness: Harness,
) -> None:
    await harness.start()
    harness.xai.polls_until_done = 1_000_000
    scene = await start_story(harness)
    await _animate(harness, scene)
    await _job(harness, 1, settled=False)
    await harness.discord.drop_gateway()
    await asyncio.sleep(0.2)
    await harness.discord.wait_until_connected()
    harness.xai.polls_until_done = 1
    await harness.discord.until(lambda: "scene.mp4" in scene.filenames, WITHIN, "for the MP4")
    assert len(harness.xai.requests_to(VIDEOS)) == 1
    assert (await _job(harness, 1, settled=True)).state is JobState.DONE
    follow = await harness.discord.click(scene, custom_id(scene, "continue"))
    assert await follow.wait_for_final() is not None, "commands work after the resume"


async def test_a_channel_gone_before_its_video_is_ready_keeps_the_file_and_others_carry_on(
    harness: Harness,
) -> None:
    await harness.start()
    discord = harness.discord
    harness.xai.polls_until_done = 1_000_000
    other = discord.guilds[1]
    ix = await discord.slash("story", "start", options={"premise": "Doomed"}, guild=other)
    doomed = await ix.wait_for_final()
    assert doomed is not None
    kept = await start_story(harness)
    await _animate(harness, doomed)
    await _animate(harness, kept)
    await _job(harness, 1, settled=False)
    await _job(harness, 2, settled=False)
    del discord.state.channels[other.text_channel.id]  # the channel was deleted
    harness.xai.polls_until_done = 1
    await discord.until(lambda: "scene.mp4" in kept.filenames, WITHIN, "for the kept MP4")
    gone = await _job(harness, 1, settled=True)
    assert gone.state is JobState.DONE
    assert (harness.data_dir / "videos" / "1.mp4").stat().st_size > 0, "the video is kept"
    assert (await _job(harness, 2, settled=True)).state is JobState.DONE
    assert len(harness.xai.requests_to(VIDEOS)) == 2


# -- secrets ------------------------------------------------------------------------------


@pytest.fixture
def production_logging() -> object:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("production_logging")
@pytest.mark.parametrize(
    ("status", "code"),
    [(500, None), (400, "invalid_value"), (400, "moderation_blocked"), (401, "invalid_api_key")],
)
async def test_a_provider_error_quoting_the_key_never_shows_it_to_members_or_logs(
    harness: Harness, capsys: pytest.CaptureFixture[str], status: int, code: str | None
) -> None:
    assert harness.bot is None
    configure_logging("DEBUG", (OPENAI_KEY, harness.discord.token, "xai-test-key"))
    await harness.start()
    body = error_body(status, f"request with key {OPENAI_KEY} failed: Bearer {OPENAI_KEY}", code)
    harness.openai.always(GENERATIONS, status=status, json=body, headers={"retry-after-ms": "1"})
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE})
    text = await error_after_deferral(harness, ix)
    assert OPENAI_KEY not in text
    for message in harness.discord.state.messages.values():
        assert OPENAI_KEY not in message.content
        assert OPENAI_KEY not in str(message.embeds)
    logged = capsys.readouterr().err
    assert logged, "the logs were captured"
    assert OPENAI_KEY not in logged
    assert harness.discord.token not in logged


async def test_a_413_from_discord_on_the_video_edit_keeps_the_file_and_says_too_large(
    harness: Harness,
) -> None:
    """The guild's limit looked big enough, but Discord refused the upload (413 / 40005)."""
    await harness.start()
    scene = await start_story(harness)
    harness.discord.fail("PATCH", rf"/channels/\d+/messages/{scene.id}", 413, times=1)
    await _animate(harness, scene)
    job = await _job(harness, 1, settled=True)
    assert job.state is JobState.DONE
    assert scene.filenames == ["scene.png"]
    assert "too large" in embed_fields(scene).get("Video", "")
    assert (harness.data_dir / "videos" / "1.mp4").stat().st_size > 0, "the video is kept"


# -- the disk ------------------------------------------------------------------------------


DISK_FAULTS = [
    pytest.param(OSError(errno.ENOSPC, "No space left on device"), id="disk-full"),
    pytest.param(OSError(errno.EROFS, "Read-only file system"), id="read-only"),
]


def _failing(error: OSError) -> Callable[..., None]:
    def write(*_: object, **__: object) -> None:
        raise error

    return write


@pytest.mark.parametrize("error", DISK_FAULTS)
async def test_a_disk_fault_while_saving_the_picture_ends_in_an_error_uncharged(
    harness: Harness, error: OSError
) -> None:
    await harness.start()
    harness.monkeypatch.setattr("storage.media.atomic_write", _failing(error))
    ix = await harness.discord.slash("story", "start", options={"premise": PREMISE})
    text = await error_after_deferral(harness, ix)
    assert "incident" in text
    assert no_public_messages(harness)
    assert (await usage_field(harness, SCENES_USED)).startswith("0 of")
    assert not list((harness.data_dir / "images").iterdir()), "no partial picture"
    harness.monkeypatch.undo()  # space again: the next story works
    assert (await start_story(harness)).filenames == ["scene.png"]


@pytest.mark.parametrize("error", DISK_FAULTS)
async def test_a_disk_fault_while_downloading_a_video_keeps_the_job_and_retries(
    harness: Harness, error: OSError
) -> None:
    """The provider's URL lives for 24 hours: a download the disk could not take is tried
    again (until VIDEO_TIMEOUT_SECONDS), not given up, and leaves no partial file."""
    await harness.start()
    scene = await start_story(harness)
    real_save = Downloader._save
    failures: list[int] = []

    async def full_twice(self: Downloader, response: object, dest: Path, max_bytes: int) -> int:
        if len(failures) < 2:
            failures.append(1)
            _failing(error)()
        return await real_save(self, response, dest, max_bytes)  # type: ignore[arg-type]

    harness.monkeypatch.setattr(Downloader, "_save", full_twice)
    await _animate(harness, scene)
    await harness.discord.until(lambda: "scene.mp4" in scene.filenames, WITHIN, "for the MP4")
    assert len(failures) == 2
    assert (await _job(harness, 1, settled=True)).state is JobState.DONE
    assert len(harness.xai.requests_to(VIDEOS)) == 1, "retrying the download submits nothing"
    assert [p.name for p in (harness.data_dir / "videos").iterdir()] == ["1.mp4"]


# -- the provider's connection -------------------------------------------------------------


async def test_a_provider_that_resets_every_connection_ends_in_unreachable_uncharged(
    harness: Harness,
) -> None:
    async def hang_up(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.transport.abort()  # RST, not a polite close

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        harness.env(OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1")
        await harness.start()
        ix = await harness.discord.slash("story", "start", options={"premise": PREMISE})
        text = await error_after_deferral(harness, ix)
    finally:
        server.close()
    # the SDK's bounded retries of the resets run into the call's deadline first
    assert text.startswith("OpenAI ")
    assert "unreachable" in text or "took too long" in text
    assert no_public_messages(harness)
    assert (await usage_field(harness, SCENES_USED)).startswith("0 of")
