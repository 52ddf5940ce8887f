"""Interaction records and the one wake-up mechanism tests wait on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.fakes.discord.model import EPHEMERAL, JSON, StoredMessage, UploadedFile, User

DEFAULT_TIMEOUT = 5.0


class Watch:
    """Wakes waiters whose predicate became true; the stand-in pokes it after every change."""

    def __init__(self) -> None:
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    def notify(self) -> None:
        for predicate, future in list(self._waiters):
            if not future.done() and predicate():
                future.set_result(None)

    async def until(self, predicate: Callable[[], bool], within: float, what: str) -> None:
        if predicate():
            return
        entry = (predicate, asyncio.get_running_loop().create_future())
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(entry[1], within)
        except TimeoutError:
            raise AssertionError(
                f"Discord stand-in: timed out after {within}s waiting {what}"
            ) from None
        finally:
            self._waiters.remove(entry)


# Interaction callback types (Discord's InteractionResponseType).
MESSAGE = 4
DEFERRED_MESSAGE = 5
DEFERRED_UPDATE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9


@dataclass(frozen=True, slots=True)
class Callback:
    type: int
    data: JSON
    files: tuple[UploadedFile, ...]
    at: float

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)


@dataclass(slots=True)
class InteractionRecord:
    """One interaction the stand-in sent, and everything the bot answered to it."""

    id: int
    token: str
    type: int  # 2 command, 3 component, 4 autocomplete
    payload: JSON
    user: User
    guild_id: int
    channel_id: int
    created_at: float
    _messages: dict[int, StoredMessage]
    _watch: Watch
    source_message_id: int | None = None  # the message a clicked component sits on
    callbacks: list[Callback] = field(default_factory=list)
    rejected: list[tuple[float, int]] = field(default_factory=list)  # (time, code) of refused calls
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    final: bool = False
    final_message_id: int | None = None
    expired: bool = False

    @property
    def ack(self) -> Callback | None:
        return self.callbacks[0] if self.callbacks else None

    @property
    def ack_latency(self) -> float | None:
        """Seconds from sending the interaction to the bot's first callback."""
        return None if self.ack is None else self.ack.at - self.created_at

    @property
    def deferred(self) -> bool:
        return self.ack is not None and self.ack.type in (DEFERRED_MESSAGE, DEFERRED_UPDATE)

    @property
    def ephemeral(self) -> bool:
        """The response (or the deferred placeholder) is visible to the invoking member only."""
        message = self.original
        if message is not None and self.ack is not None and self.ack.type != UPDATE_MESSAGE:
            return message.ephemeral
        return self.ack is not None and self.ack.ephemeral

    @property
    def original(self) -> StoredMessage | None:
        return None if self.original_id is None else self._messages.get(self.original_id)

    @property
    def followups(self) -> list[StoredMessage]:
        return [self._messages[i] for i in self.followup_ids if i in self._messages]

    @property
    def choices(self) -> list[JSON] | None:
        """The autocomplete answer, if the bot gave one."""
        for callback in self.callbacks:
            if callback.type == AUTOCOMPLETE_RESULT:
                return list(callback.data.get("choices", []))
        return None

    def finish(self, message_id: int | None) -> None:
        if not self.final:
            self.final, self.final_message_id = True, message_id

    async def wait_for_ack(self, within: float = DEFAULT_TIMEOUT) -> Callback:
        await self._watch.until(lambda: self.ack is not None, within, f"for the ack of {self}")
        assert self.ack is not None
        return self.ack

    async def wait_for_final(self, within: float = DEFAULT_TIMEOUT) -> StoredMessage | None:
        """The message that ended the interaction: the reply, the edited deferral or update."""
        await self._watch.until(lambda: self.final, within, f"for the final answer to {self}")
        if self.final_message_id is None:
            return None
        return self._messages.get(self.final_message_id)

    async def wait_for_followups(self, count: int = 1, within: float = DEFAULT_TIMEOUT) -> None:
        what = f"for {count} follow-up(s) to {self}"
        await self._watch.until(lambda: len(self.followup_ids) >= count, within, what)

    def __str__(self) -> str:
        name = self.payload.get("data", {}).get("name") or self.payload.get("data", {}).get(
            "custom_id"
        )
        return f"interaction {self.id} ({name!r}, type {self.type})"


def monotonic() -> float:
    return time.monotonic()
