"""`make demo` keeps working: `python -m demo` exits 0 and names the PNG and MP4 it produced,
and the storybook's page and film, which are real files an ordinary viewer opens."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import av
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def test_python_m_demo_plays_the_session_and_names_an_existing_png_and_mp4(
    tmp_path: Path,
) -> None:
    data = tmp_path / "demo-data"
    done = subprocess.run(  # noqa: S603 - our own interpreter running our own module
        [sys.executable, "-m", "demo", "--data-dir", str(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"demo failed:\n{done.stdout}\n{done.stderr}"
    transcript = done.stdout
    for step in ("/story start", "click Regenerate", "click Animate", "click Continue"):
        assert f"→ {step}" in transcript
    assert "Scene 2" in transcript
    pictures = [Path(p) for p in re.findall(r"picture on disk: (\S+\.png)", transcript)]
    videos = [Path(p) for p in re.findall(r"video on disk: (\S+\.mp4)", transcript)]
    assert len(pictures) == 2, transcript
    assert len(videos) == 1, transcript
    for path in (*pictures, *videos):
        assert path.is_file(), path
        assert path.is_relative_to(data.resolve()), path
    assert videos[0].read_bytes()[4:8] == b"ftyp"
    assert "Traceback" not in done.stderr, done.stderr
    _assert_real_media(pictures, videos)
    assert "→ /story book" in transcript
    book = dict(re.findall(r"(storybook\.(?:html|mp4)) as the member got it: (\S+)", transcript))
    page, film = Path(book["storybook.html"]), Path(book["storybook.mp4"])
    assert page.is_relative_to(data.resolve())
    assert film.is_relative_to(data.resolve())
    assert "At dawn the whale surfaced" in page.read_text(encoding="utf-8")
    with av.open(str(film), "r") as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in container.decode(video=0)) > 2 * len(videos)


def _assert_real_media(pictures: list[Path], videos: list[Path]) -> None:
    """Not a flat square: the stand-in drew the scene's words; the MP4 decodes as H.264."""
    for path in pictures:
        with Image.open(path) as picture:
            assert picture.size[0] >= 256
            assert len(picture.convert("RGB").getcolors(maxcolors=1 << 16) or range(1 << 16)) > 50
    for path in videos:
        with av.open(str(path), "r") as container:
            assert container.streams.video[0].codec_context.name == "h264"
            assert sum(1 for _ in container.decode(video=0)) > 1
