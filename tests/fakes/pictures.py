"""Small real pictures for tests (Pillow-made, so every decoder accepts them)."""

from __future__ import annotations

import io

from PIL import Image


def picture(fmt: str = "PNG", size: tuple[int, int] = (8, 8), color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def png(size: tuple[int, int] = (8, 8), color: str = "red") -> bytes:
    return picture("PNG", size, color)


def jpeg(size: tuple[int, int] = (8, 8), color: str = "blue") -> bytes:
    return picture("JPEG", size, color)


def webp(size: tuple[int, int] = (8, 8), color: str = "green") -> bytes:
    return picture("WEBP", size, color)


# The smallest thing that plays as an MP4 for our purposes: an ftyp box and some payload.
def mp4(size: int = 4096) -> bytes:
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return head + bytes(max(0, size - len(head)))
