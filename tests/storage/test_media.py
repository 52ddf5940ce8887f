"""The media store: the same operations on both backends (files under DATA_DIR with SQLite,
rows with PostgreSQL); SPEC §9 paths, names without user input and atomic writes on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage import MediaStore, Storage
from tests.storage.builders import new_story
from tests.storage.spawn import run_until_ready_then_kill


@pytest.fixture
def media(storage: Storage) -> MediaStore:
    """The store of either backend (the contract tests)."""
    return storage.media


@pytest.fixture
async def disk(tmp_path: Path) -> MediaStore:
    """The files under DATA_DIR (what SQLite deployments keep on disk)."""
    store = MediaStore(tmp_path / "data")
    await store.create_folders()
    return store


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_paths_are_the_ones_spec_names(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    assert store.image_path(7) == tmp_path / "images" / "7.png"
    assert store.video_path(7) == tmp_path / "videos" / "7.mp4"
    assert store.reference_dir(3) == tmp_path / "references" / "3"


@pytest.mark.parametrize("bad_id", [-1, True, "7", "../7", 7.0])
def test_only_non_negative_integer_ids_make_file_names(tmp_path: Path, bad_id: object) -> None:
    with pytest.raises(ValueError, match="integers"):
        MediaStore(tmp_path).image_path(bad_id)  # type: ignore[arg-type]  # bad input on purpose


@pytest.mark.parametrize("name", ["../0.png", "0.png/../../x", "cat.png", "0.exe", "0.PNG"])
def test_reference_names_other_than_generated_ones_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="reference photo name"):
        MediaStore(tmp_path).reference_path(1, name)


async def test_an_image_round_trips_and_is_replaced(media: MediaStore) -> None:
    assert await media.read_image(7) is None
    await media.save_image(7, b"old")
    await media.save_image(7, b"new")
    assert await media.read_image(7) == b"new"


async def test_a_film_round_trips(media: MediaStore) -> None:
    assert await media.read_film(3) is None
    await media.save_film(3, b"film")
    assert await media.read_film(3) == b"film"


async def test_an_image_is_the_file_spec_names(disk: MediaStore) -> None:
    await disk.save_image(7, b"png")
    assert files_in(disk.images_dir) == ["7.png"]


async def test_reference_files_are_named_by_position_and_type_only(media: MediaStore) -> None:
    names = [
        await media.save_reference(3, 0, b"a", "image/png"),
        await media.save_reference(3, 1, b"b", "image/jpeg"),
        await media.save_reference(3, 2, b"c", "image/webp"),
    ]
    assert names == ["0.png", "1.jpg", "2.webp"]
    assert await media.read_reference(3, "1.jpg") == b"b"
    with pytest.raises(ValueError, match="reference photo name"):
        await media.read_reference(3, "../1.jpg")


async def test_reference_files_live_in_their_storys_folder(disk: MediaStore) -> None:
    await disk.save_reference(3, 0, b"a", "image/png")
    assert files_in(disk.reference_dir(3)) == ["0.png"]


async def test_an_unsupported_reference_type_is_refused(media: MediaStore) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        await media.save_reference(3, 0, b"<svg/>", "image/svg+xml")


async def test_a_failure_before_replace_keeps_the_old_file_and_no_temp(
    disk: MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await disk.save_image(7, b"old picture")

    def crash(src: object, dst: object) -> None:
        raise OSError("disk vanished")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk vanished"):
        await disk.save_image(7, b"new picture")
    assert disk.image_path(7).read_bytes() == b"old picture"
    assert files_in(disk.images_dir) == ["7.png"]


async def test_a_failure_on_a_first_write_leaves_no_file(
    disk: MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(fd: int) -> None:
        raise OSError("fsync failed")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="fsync failed"):
        await disk.save_video(7, b"mp4")
    assert files_in(disk.videos_dir) == []


async def test_a_process_killed_mid_write_leaves_the_old_image_whole(data_dir: Path) -> None:
    storage = await Storage.open(data_dir)
    await storage.media.save_image(7, b"O" * 1000)
    await storage.close()

    await run_until_ready_then_kill("write-image-and-hang", data_dir, 7, 2_000_000)

    store = MediaStore(data_dir)
    assert store.image_path(7).read_bytes() == b"O" * 1000
    assert len(files_in(store.images_dir)) == 2, "the killed write left its temp file"
    assert await store.remove_temp_files() == 1
    assert files_in(store.images_dir) == ["7.png"]


async def test_a_downloader_writes_a_temp_path_then_commits_it(media: MediaStore) -> None:
    temp = media.video_temp_path(7)
    assert temp.parent == media.videos_dir
    assert temp != media.video_path(7)
    temp.write_bytes(b"mp4")
    assert await media.read_video(7) is None
    await media.commit_video(7, temp)
    assert await media.read_video(7) == b"mp4"
    assert not temp.exists()


async def test_commit_refuses_a_path_that_is_not_its_scenes_temp(
    media: MediaStore, tmp_path: Path
) -> None:
    outside = tmp_path / "7.mp4.abc.tmp"
    outside.write_bytes(b"x")
    with pytest.raises(ValueError, match="not a temp path"):
        await media.commit_video(7, outside)
    with pytest.raises(ValueError, match="not a temp path"):
        await media.commit_video(8, media.video_temp_path(7))


async def test_delete_video_drops_only_that_scenes_video(media: MediaStore) -> None:
    await media.save_video(7, b"a")
    await media.save_video(8, b"b")
    await media.delete_video(7)
    await media.delete_video(7)  # already gone is fine
    assert await media.read_video(7) is None
    assert await media.video_size(7) is None
    assert await media.read_video(8) == b"b"


async def test_processes_with_their_own_data_dirs_share_media_on_postgresql(
    storage: Storage, second_storage: Storage, backend: str
) -> None:
    if backend == "sqlite":  # one DATA_DIR by design: the second connection shares its files
        assert second_storage.media.root == storage.media.root
    story = await new_story(storage)
    await storage.media.save_image(7, b"drawn by one process")
    await storage.add_reference_photo(story.id, 0, b"photo", "image/png")
    assert await second_storage.media.read_image(7) == b"drawn by one process"
    assert await second_storage.media.read_reference(story.id, "0.png") == b"photo"
