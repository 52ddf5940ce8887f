"""The film: clips joined in scene order without re-encoding (PyAV remux)."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import pytest
from PIL import Image

from bot.book.film import Clip, join_clips
from tests.fakes.scene_art import FILM_FPS, scene_film, scene_picture


def _frames(mp4: bytes) -> list[tuple[int, int, int]]:
    """The centre pixel of every decoded frame (a decoder must accept the whole file)."""
    with av.open(io.BytesIO(mp4), "r") as container:
        frames = [f.to_image() for f in container.decode(video=0)]
    return [frame.getpixel((frame.width // 2, frame.height // 2)) for frame in frames]


def _packets(mp4: bytes) -> list[bytes]:
    with av.open(io.BytesIO(mp4), "r") as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def _talkie(seconds: float) -> bytes:
    """An H.264 + AAC clip: B-frames and AAC priming both start at a negative dts."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FILM_FPS)
        video.width = video.height = 64
        video.pix_fmt = "yuv420p"
        audio = container.add_stream("aac", rate=48000)
        picture = av.VideoFrame.from_image(Image.new("RGB", (64, 64), "navy"))
        for index in range(int(seconds * FILM_FPS)):
            picture.pts = index
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
        samples = int(seconds * 48000)
        for start in range(0, samples, 1024):
            sound = av.AudioFrame(format="fltp", layout="mono", samples=1024)
            sound.sample_rate = 48000
            sound.pts = start
            sound.time_base = Fraction(1, 48000)
            for plane in sound.planes:
                plane.update(bytes(plane.buffer_size))
            container.mux(audio.encode(sound))
        container.mux(audio.encode(None))
    return out.getvalue()


def test_the_film_holds_every_clip_in_scene_order_as_one_playable_mp4() -> None:
    clips = [Clip(n, scene_film(scene_picture(f"scene {n}"), seconds=1)) for n in (1, 2, 3)]
    film = join_clips(clips)
    assert film is not None
    assert film.numbers == (1, 2, 3)
    assert film.left_out == ()
    assert film.seconds == pytest.approx(3.0, abs=0.1)
    frames = _frames(film.mp4)
    assert len(frames) == 3 * FILM_FPS
    # Each clip's frames keep their own colours, in order: scene 1, then 2, then 3.
    for number, clip in enumerate(clips):
        expected = _frames(clip.mp4)
        assert frames[number * FILM_FPS : (number + 1) * FILM_FPS] == expected


def test_the_film_is_remuxed_not_re_encoded() -> None:
    clips = [Clip(n, scene_film(scene_picture(f"scene {n}"), seconds=1)) for n in (1, 2)]
    film = join_clips(clips)
    assert film is not None
    assert _packets(film.mp4) == _packets(clips[0].mp4) + _packets(clips[1].mp4)


def test_clips_with_sound_join_with_increasing_timestamps() -> None:
    film = join_clips([Clip(1, _talkie(1.0)), Clip(2, _talkie(1.0)), Clip(3, _talkie(1.0))])
    assert film is not None
    with av.open(io.BytesIO(film.mp4), "r") as container:
        assert len(container.streams.audio) == 1
        video = [p.dts for p in container.demux(video=0) if p.dts is not None]
    assert video == sorted(set(video)), "video dts must strictly increase"
    assert film.seconds == pytest.approx(3.0, abs=0.15)


def test_a_clip_of_another_size_or_an_unreadable_one_is_left_out_and_named() -> None:
    picture = scene_picture("scene")
    clips = [
        Clip(1, scene_film(picture, seconds=1)),
        Clip(2, scene_film(picture, seconds=1, side=128)),
        Clip(3, b"\x00\x00\x00\x18ftypmp42 not a video at all"),
        Clip(4, scene_film(picture, seconds=1)),
    ]
    film = join_clips(clips)
    assert film is not None
    assert film.numbers == (1, 4)
    assert film.left_out == (2, 3)
    assert len(_frames(film.mp4)) == 2 * FILM_FPS


def test_no_readable_clip_makes_no_film() -> None:
    assert join_clips([Clip(1, b"junk")]) is None
