"""Pillow checks and re-encoding for pictures going to and coming from providers.

Everything here is CPU-bound and synchronous: callers run it through `asyncio.to_thread`.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from providers.base import ReferenceImage
from providers.errors import InvalidResponse

MAX_REFERENCE_BYTES = 20 * 1024 * 1024  # SPEC §6
# Providers want modest inputs (xAI data URIs, Gemini inline parts): larger photos are shrunk.
SEND_MAX_SIDE = 2048
SEND_MAX_BYTES = 4 * 1024 * 1024
# A decompression bomb is refused long before Pillow's own limit would only warn.
MAX_PIXELS = 40_000_000

_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


class BadImage(ValueError):
    """A picture we cannot accept; the message says why in member-facing words."""


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise BadImage(f"it is too large ({image.width}x{image.height} pixels)")
            image.load()
        except BadImage:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise BadImage("it is too large to decode safely") from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise BadImage("it is not a readable PNG, JPEG or WebP image") from exc
    return image


def prepare_reference(data: bytes) -> ReferenceImage:
    """Check a member's photo (format, size, integrity) and shrink it for the providers."""
    if len(data) > MAX_REFERENCE_BYTES:
        raise BadImage("it is larger than 20 MiB")
    image = _open(data)
    fmt = image.format or ""
    if fmt not in _MIME:
        raise BadImage(f"{fmt or 'this'} is not a PNG, JPEG or WebP image")
    if max(image.size) <= SEND_MAX_SIDE and len(data) <= SEND_MAX_BYTES:
        return ReferenceImage(data, _MIME[fmt])
    image.thumbnail((SEND_MAX_SIDE, SEND_MAX_SIDE))
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P"):
        image.save(out, "PNG", optimize=True)
        return ReferenceImage(out.getvalue(), "image/png")
    image.convert("RGB").save(out, "JPEG", quality=90)
    return ReferenceImage(out.getvalue(), "image/jpeg")


def to_png(data: bytes, provider: str) -> bytes:
    """A provider's picture as PNG; anything that does not decode is a malformed answer."""
    try:
        image = _open(data)
    except BadImage as exc:
        raise InvalidResponse(provider, f"the returned picture is unusable: {exc}") from exc
    if image.format == "PNG":
        return data
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
