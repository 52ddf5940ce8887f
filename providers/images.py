"""Pillow checks and re-encoding for pictures going to and coming from providers.

Everything here is CPU-bound and synchronous: callers run it through `asyncio.to_thread`.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from providers.base import MAX_REFERENCE_BYTES, REFERENCE_TYPES, ReferenceImage
from providers.errors import InvalidResponse

# Providers want modest inputs (xAI data URIs, Gemini inline parts): larger photos are shrunk.
SEND_MAX_SIDE = 2048
SEND_MAX_BYTES = 4 * 1024 * 1024
# A decompression bomb is refused long before Pillow's own limit would only warn.
MAX_PIXELS = 40_000_000

# Pillow's format name of each accepted type: PNG, JPEG, WEBP.
_MIME = {mime.removeprefix("image/").upper(): mime for mime in REFERENCE_TYPES}


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
    """Check a member's photo (format, size, integrity) and re-encode it for storage and the
    providers: upright, at most SEND_MAX_SIDE, and without metadata. A phone photo's EXIF
    carries where and when it was taken (GPS); none of it is kept or sent. The colour profile
    is kept: it is not about the member, and without it colours shift."""
    if len(data) > MAX_REFERENCE_BYTES:
        raise BadImage("it is larger than 20 MiB")
    image = _open(data)
    fmt = image.format or ""
    if fmt not in _MIME:
        raise BadImage(f"{fmt or 'this'} is not a PNG, JPEG or WebP image")
    icc = image.info.get("icc_profile")
    image = ImageOps.exif_transpose(image)  # the rotation EXIF asked for, before EXIF goes
    if max(image.size) > SEND_MAX_SIDE or len(data) > SEND_MAX_BYTES:
        image.thumbnail((SEND_MAX_SIDE, SEND_MAX_SIDE))
        fmt = "PNG" if image.mode in ("RGBA", "LA", "P") else "JPEG"
    out = io.BytesIO()
    options: dict[str, object] = {"icc_profile": icc} if icc else {}
    if fmt == "PNG":
        image.save(out, "PNG", **options)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=90, **options)
    else:
        image.convert("RGB").save(out, "JPEG", quality=90, **options)
    return ReferenceImage(out.getvalue(), _MIME[fmt])


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
