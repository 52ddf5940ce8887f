"""Hostile and broken input end to end (docs/RELIABILITY.md "Input"): attachments that are not
what they claim, premises Discord would not send, and forged button custom_ids. Every one ends
ephemerally, publishes nothing, calls no provider and charges nothing."""

from __future__ import annotations

import io
import logging
import struct
import zlib

import pytest
from PIL import Image

from tests.e2e.harness import Harness
from tests.e2e.helpers import (
    PREMISE,
    SCENES_USED,
    error_after_deferral,
    message_bodies,
    no_public_messages,
    press_forged_button,
    provider_calls,
    refusal_text,
    start_story,
    usage_field,
)
from tests.fakes.discord import InteractionRecord, Upload
from tests.fakes.openai_api import EDITS
from tests.fakes.pictures import jpeg, picture, png

STRICT_QUOTA = True  # no story is deleted here: pictures charged == pictures drawn


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header claiming huge dimensions: a few dozen bytes that would decode to
    gigabytes. Pillow reads the size from the header; we must refuse before decoding."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


async def _start_with(harness: Harness, upload: Upload) -> InteractionRecord:
    return await harness.discord.slash(
        "story", "start", options={"premise": PREMISE}, attachments={"reference": upload}
    )


# -- attachments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("upload", "says"),
    [
        (Upload(b"<html><body>hi</body></html>", "page.html", "text/html"), "not a PNG"),
        (Upload(png()[:40], "page.png", "application/octet-stream"), "not a PNG"),
        (Upload(b"GIF89a", "anim.gif", "image/gif"), "not a PNG"),
    ],
    ids=["html", "octet-stream", "gif"],
)
async def test_an_attachment_whose_declared_type_is_not_an_image_is_refused_by_name(
    harness: Harness, upload: Upload, says: str
) -> None:
    await harness.start()
    ix = await _start_with(harness, upload)
    text = await refusal_text(ix)
    assert upload.filename in text
    assert says in text
    assert no_public_messages(harness)
    assert provider_calls(harness) == 0
    assert (await usage_field(harness, SCENES_USED)).startswith("0 of")


@pytest.mark.parametrize(
    ("upload", "says"),
    [
        (Upload(b"<html><script>x</script></html>", "lies.png", "image/png"), "not a readable"),
        (Upload(png((64, 64))[:60], "truncated.png", "image/png"), "not a readable"),
        (Upload(png_bomb(), "bomb.png", "image/png"), "too large"),
        (Upload(picture("GIF"), "really-a-gif.png", "image/png"), "not a PNG, JPEG or WebP"),
        (Upload(picture("BMP"), "really-a-bmp.webp", "image/webp"), "not a PNG, JPEG or WebP"),
    ],
    ids=["html-as-png", "truncated-png", "png-bomb", "gif-as-png", "bmp-as-webp"],
)
async def test_an_attachment_that_lies_about_being_an_image_ends_ephemeral_uncharged(
    harness: Harness, upload: Upload, says: str
) -> None:
    """The declared type passes the cheap check; reading the bytes finds out, after the
    deferral, before any provider call, and the deferral ends in an ephemeral error."""
    await harness.start()
    ix = await _start_with(harness, upload)
    text = await error_after_deferral(harness, ix)
    assert upload.filename in text
    assert says in text
    assert no_public_messages(harness)
    assert provider_calls(harness) == 0
    assert (await usage_field(harness, SCENES_USED)).startswith("0 of")
    assert not (harness.data_dir / "references").exists() or not any(
        (harness.data_dir / "references").rglob("*")
    ), "nothing of a refused photo is kept"


async def test_a_reference_photo_discord_no_longer_serves_is_named_in_an_ephemeral_error(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """The CDN answers 404 (the photo was deleted before the bot read it): the member learns
    which file, nothing is drawn or charged, and the log carries no ERROR."""
    await harness.start()
    ix = await _start_with(harness, Upload(png((32, 32)), "grandma.png", gone=True))
    text = await error_after_deferral(harness, ix)
    assert "grandma.png" in text
    assert "again" in text, "it says what to do: attach it again"
    assert "incident" not in text
    assert no_public_messages(harness)
    assert provider_calls(harness) == 0
    assert (await usage_field(harness, SCENES_USED)).startswith("0 of")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_real_jpeg_sent_as_png_is_used_as_the_jpeg_it_is(harness: Harness) -> None:
    await harness.start()
    photo = jpeg((16, 16))
    await start_story(
        harness,
        options={"model": "gpt-image-2"},
        attachments={"reference": Upload(photo, "cat.png", "image/png")},
    )
    (sent,) = harness.openai.requests_to(EDITS)[0].images
    assert Image.open(io.BytesIO(sent.data)).format == "JPEG"
    assert sent.content_type == "image/jpeg", "the bytes decide the type, not the member"
    stored = list((harness.data_dir / "references").rglob("*"))
    assert [p.suffix for p in stored if p.is_file()] == [".jpg"]


def _phone_photo() -> bytes:
    """A JPEG as a phone writes it: 16x8 pixels stored sideways (EXIF orientation 6, "rotate
    90° clockwise to view") with the place it was taken in its GPS block."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 22.0, 0.0), 3: "E", 4: (4.0, 53.0, 0.0)})
    out = io.BytesIO()
    Image.new("RGB", (16, 8), "blue").save(out, "JPEG", exif=exif)
    return out.getvalue()


async def test_a_reference_photo_is_kept_and_sent_upright_without_exif_or_gps(
    harness: Harness,
) -> None:
    await harness.start()
    photo = _phone_photo()
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825), "the photo carries GPS"
    await start_story(
        harness,
        options={"model": "gpt-image-2"},
        attachments={"reference": Upload(photo, "holiday.jpg", "image/jpeg")},
    )
    (sent,) = harness.openai.requests_to(EDITS)[0].images
    (stored,) = [p for p in (harness.data_dir / "references").rglob("*") if p.is_file()]
    for data in (sent.data, stored.read_bytes()):
        image = Image.open(io.BytesIO(data))
        assert not image.getexif(), "no EXIF (and so no GPS) is kept or sent"
        assert b"PhoneMaker" not in data
        assert image.size == (8, 16), "turned upright as the photo's orientation said"


# -- premises ------------------------------------------------------------------------------


async def test_a_premise_over_the_limit_is_refused_without_a_provider_call(
    harness: Harness,
) -> None:
    """Discord enforces the option's max_length (1,500) in its client; a forged payload of
    6,000 characters reaches the bot, which refuses it ephemerally all the same."""
    await harness.start()
    (start,) = [
        o
        for c in harness.discord.commands()
        if c["name"] == "story"
        for o in c["options"]
        if o["name"] == "start"
    ]
    (premise,) = [o for o in start["options"] if o["name"] == "premise"]
    assert premise["max_length"] == 1500
    ix = await harness.discord.slash("story", "start", options={"premise": "x" * 6000})
    assert "limit is 1,500" in await refusal_text(ix)
    assert no_public_messages(harness)
    assert provider_calls(harness) == 0
    assert (await usage_field(harness, SCENES_USED)).startswith("0 of")


async def test_a_blank_premise_is_refused_without_a_provider_call(harness: Harness) -> None:
    """Discord's min_length counts spaces; a premise of only whitespace would draw nothing."""
    await harness.start()
    ix = await harness.discord.slash("story", "start", options={"premise": "   \n  "})
    assert "empty" in await refusal_text(ix)
    assert no_public_messages(harness)
    assert provider_calls(harness) == 0


async def test_a_premise_full_of_markdown_and_mentions_is_kept_and_pings_nobody(
    harness: Harness,
) -> None:
    await harness.start()
    victim = harness.discord.add_user("victim")
    premise = f"# **@everyone** ||<@{victim.id}>|| <@&1> @here `code` [link](https://x.test)"
    scene = await start_story(harness, premise)
    assert scene.embeds
    for body in message_bodies(harness):
        assert body.get("allowed_mentions", {}).get("parse") == []
    assert not scene.content, "the premise goes in the embed, never in pinging content"


# -- forged custom_ids ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "custom_id",
    [
        "scene:regen:abc",
        "scene:animate:-1",
        "scene:continue:" + "9" * 19,
        "scene:regen:" + "1" * 87,
        "scene:explode:1",
        "scene:regen:1:extra",
    ],
    ids=["non-numeric", "negative", "over-int64", "overlong", "unknown-action", "extra-part"],
)
async def test_a_forged_custom_id_is_answered_ephemerally_and_changes_nothing(
    harness: Harness, custom_id: str
) -> None:
    await harness.start()
    assert "no longer exists" in await press_forged_button(harness, custom_id)
