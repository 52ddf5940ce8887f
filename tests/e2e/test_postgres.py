"""The bot on PostgreSQL (SPEC §11): the same story and video flow, with the pictures and
the MP4 in the database, where a process with another DATA_DIR reads them."""

from __future__ import annotations

from pathlib import Path

from storage import JobState, Storage
from tests.e2e.harness import Harness
from tests.e2e.helpers import custom_id, start_story
from tests.fakes.xai_api import POLL


async def test_a_story_and_its_video_on_postgresql_keep_their_media_in_the_database(
    postgres_url: str, harness: Harness, tmp_path: Path
) -> None:
    # postgres_url comes first, so its schema outlives the bot's pool at teardown.
    harness.env(DATABASE_URL=postgres_url)
    bot = await harness.start()
    assert bot.services.storage.db.name == "postgresql"
    scene = await start_story(harness)
    click = await harness.discord.click(scene, custom_id(scene, "animate"))
    assert await click.wait_for_final() is not None
    try:
        await harness.discord.until(lambda: "scene.mp4" in scene.filenames, 30.0, "for the MP4")
    except AssertionError as exc:  # say where the job stopped, not only that the MP4 is late
        job = await bot.services.storage.jobs.for_scene(1)
        polls = len(harness.xai.requests_to(POLL))
        raise AssertionError(f"{exc}; job {job}; {polls} polls; video field {scene!r}") from exc
    assert scene.filenames == ["scene.png", "scene.mp4"]
    assert not list((harness.data_dir / "images").iterdir()), "no picture on this disk"
    assert not list((harness.data_dir / "videos").iterdir()), "no MP4 nor temp file left"

    other = await Storage.open(tmp_path / "another-machine", database_url=postgres_url)
    try:
        assert await other.media.read_image(1) == scene.attachments[0].data
        assert await other.media.read_video(1) == scene.attachments[1].data
        job = await other.jobs.for_scene(1)
        assert job is not None
        assert job.state is JobState.DONE
    finally:
        await other.close()
