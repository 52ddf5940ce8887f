"""The film: the animated scenes' MP4s joined in scene order without re-encoding (PyAV remux).

Blocking (demuxing and muxing run in FFmpeg): call `join_clips` through `asyncio.to_thread`.
Each clip's packets are shifted so its first dts lands where the previous clip's last
dts + duration ended, per stream; offsets taken from a clip's length break on H.264 B-frames and
AAC priming, whose first dts is negative (the MP4 muxer then refuses a non-increasing dts).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # PyAV (FFmpeg) is imported on the first film made, not at start-up
    from av.container import InputContainer, OutputContainer
    from av.stream import Stream


class FilmError(Exception):
    """A clip that cannot be joined (unreadable, or no video stream)."""


@dataclass(frozen=True, slots=True)
class Clip:
    """One animated scene's MP4."""

    number: int
    mp4: bytes


@dataclass(frozen=True, slots=True)
class Film:
    """The joined MP4 and which scenes it holds; `left_out` were shaped differently."""

    mp4: bytes
    numbers: tuple[int, ...]
    left_out: tuple[int, ...]
    seconds: float


def _shape(container: InputContainer) -> tuple[object, ...]:
    """What clips must share to be joined without re-encoding: codec, size, stream set."""
    if not container.streams.video:
        raise FilmError("no video stream")
    videos = [(v.codec_context.name, v.width, v.height) for v in container.streams.video]
    audios = [(a.codec_context.name, a.rate, a.channels) for a in container.streams.audio]
    return (*videos, "audio", *audios)


def _joinable(clips: Sequence[Clip]) -> tuple[list[Clip], list[int]]:
    """The clips shaped like the first readable one, and the numbers of the others."""
    kept: list[Clip] = []
    left_out: list[int] = []
    first: tuple[object, ...] | None = None
    import av

    for clip in clips:
        try:
            with av.open(io.BytesIO(clip.mp4), "r") as container:
                shape = _shape(container)
        except (av.FFmpegError, FilmError):
            left_out.append(clip.number)
            continue
        if first is None:
            first = shape
        if shape == first:
            kept.append(clip)
        else:
            left_out.append(clip.number)
    return kept, left_out


def _media_streams(container: InputContainer) -> list[Stream]:
    return [s for s in container.streams if s.type in ("video", "audio")]


def _append(
    source: InputContainer, outputs: list[Stream], ends: list[Fraction], out: OutputContainer
) -> None:
    """Mux one clip's packets after what is already in `out`; `ends` (seconds) move on."""
    inputs = _media_streams(source)
    shifts: list[int | None] = [None] * len(inputs)
    for packet in source.demux(inputs):
        if packet.dts is None:  # the demuxer's final flush packet
            continue
        index = inputs.index(packet.stream)
        base = packet.time_base
        if shifts[index] is None:
            shifts[index] = int(ends[index] / base) - packet.dts
        shift = shifts[index] or 0
        packet.dts += shift
        if packet.pts is not None:
            packet.pts += shift
        ends[index] = max(ends[index], (packet.dts + (packet.duration or 0)) * base)
        packet.stream = outputs[index]
        out.mux(packet)


def join_clips(clips: Sequence[Clip]) -> Film | None:
    """One MP4 of the joinable clips in the given order; None when no clip can be read."""
    kept, left_out = _joinable(clips)
    if not kept:
        return None
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        with av.open(io.BytesIO(kept[0].mp4), "r") as template:
            outputs = [out.add_stream_from_template(s) for s in _media_streams(template)]
        ends = [Fraction(0)] * len(outputs)
        for clip in kept:
            with av.open(io.BytesIO(clip.mp4), "r") as source:
                _append(source, outputs, ends, out)
    seconds = float(max(ends))
    return Film(buffer.getvalue(), tuple(c.number for c in kept), tuple(left_out), seconds)
