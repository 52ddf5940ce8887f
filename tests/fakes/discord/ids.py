"""Snowflakes, timestamps and tokens shaped like Discord's."""

from __future__ import annotations

import datetime as dt
import secrets
import time

DISCORD_EPOCH_MS = 1_420_070_400_000


class Snowflakes:
    """Increasing snowflakes: milliseconds since the Discord epoch, worker, process, counter."""

    def __init__(self, worker: int = 1, process: int = 0) -> None:
        self._worker = worker & 0x1F
        self._process = process & 0x1F
        self._last_ms = 0
        self._increment = 0

    def next(self) -> int:
        now_ms = int(time.time() * 1000)
        if now_ms > self._last_ms:
            self._last_ms, self._increment = now_ms, 0
        else:
            self._increment += 1
            if self._increment > 0xFFF:  # 4096 ids in one millisecond: borrow the next one
                self._last_ms, self._increment = self._last_ms + 1, 0
        return self._compose()

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """The next id whose guild Discord would put on `shard_id` of `shard_count`
        (`(id >> 22) % shard_count`): the millisecond moves on, at most shard_count - 1."""
        self.next()
        behind = (shard_id - (self._last_ms - DISCORD_EPOCH_MS)) % shard_count
        if behind:
            self._last_ms, self._increment = self._last_ms + behind, 0
        return self._compose()

    def _compose(self) -> int:
        stamp = self._last_ms - DISCORD_EPOCH_MS
        return (stamp << 22) | (self._worker << 17) | (self._process << 12) | self._increment


def snowflake_time(snowflake: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def now_iso() -> str:
    return iso(dt.datetime.now(dt.UTC))


def interaction_token(interaction_id: int) -> str:
    """Long and URL-safe like the real ones (which are base64 of `interaction:<id>:<secret>`)."""
    return f"aW50ZXJhY3Rpb246{interaction_id}_{secrets.token_urlsafe(48)}"


def cdn_signature() -> str:
    """The `ex`/`is`/`hm` query Discord signs CDN links with; the stand-in never checks it."""
    expires = int(time.time()) + 86_400
    return f"ex={expires:x}&is={int(time.time()):x}&hm={secrets.token_hex(32)}"
