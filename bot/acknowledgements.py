"""Acknowledgements come before work: a scene's provider calls start once no interaction that
reached this process is still waiting for its acknowledgement.

Every step of every scene runs on the one event loop. Without an order, the first scenes of a
burst write their text and draw while the last interactions of the same burst still wait for
their quota check and deferral, which Discord wants within 3 s and members read as the bot's
responsiveness (docs/PERFORMANCE.md, lever 9). A scene waits at most MAX_WAIT, so a steady
stream of interactions delays scenes by that much at worst, and an interaction that is never
acknowledged (its handler failed) stops counting MAX_WAIT after it arrived.

Discord-free: an interaction is a key and a way to ask whether it has been answered.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# Longer than a burst of 200 takes to acknowledge on two cores (~0.15 s); waiting longer than
# this would only delay scenes.
MAX_WAIT = 0.5
# How often waiting scenes look again while the oldest interaction is answered by a path that
# does not report it here (an autocomplete, a refusal, a button's own answer).
RECHECK = 0.005


@dataclass(frozen=True, slots=True)
class _Arrival:
    at: float
    is_answered: Callable[[], bool]


class Acknowledgements:
    """The interactions of this process not acknowledged yet, and the scenes waiting for them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._pending: dict[int, _Arrival] = {}  # by interaction id, in order of arrival
        self._waiters: deque[tuple[float, asyncio.Future[None]]] = deque()  # by deadline
        self._recheck: asyncio.TimerHandle | None = None

    def arrived(self, key: int, is_answered: Callable[[], bool]) -> None:
        """An interaction was received; `is_answered` tells whether it has been acknowledged."""
        self._waiting()  # forget those answered meanwhile without a scene to report them
        self._pending[key] = _Arrival(self._clock(), is_answered)

    def acknowledged(self, key: int) -> None:
        """The interaction was acknowledged (or will never be): scenes may go on once the
        others are too."""
        self._pending.pop(key, None)
        self._release()

    async def work_after(self, key: int) -> None:
        """`key` was acknowledged; return when no interaction waits for its acknowledgement any
        more, or after MAX_WAIT."""
        self.acknowledged(key)
        if not self._waiting():
            return
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiters.append((self._clock() + MAX_WAIT, future))
        if self._recheck is None:
            self._recheck = loop.call_later(RECHECK, self._rechecked)
        await future

    def _waiting(self) -> bool:
        """Whether an interaction still waits; forgets the answered and the expired ones in
        front of the oldest that does (the others are looked at when they come to the front)."""
        now = self._clock()
        while self._pending:
            key, arrival = next(iter(self._pending.items()))
            if not arrival.is_answered() and now - arrival.at <= MAX_WAIT:
                return True
            del self._pending[key]
        return False

    def _release(self) -> None:
        everyone = not self._waiting()
        now = self._clock()
        while self._waiters and (everyone or self._waiters[0][0] <= now):
            _, future = self._waiters.popleft()
            if not future.done():  # a scene cancelled while it waited is simply dropped
                future.set_result(None)

    def _rechecked(self) -> None:
        self._recheck = None
        try:
            self._release()
        finally:
            if self._waiters:  # the deadlines hold even if a look went wrong
                self._recheck = asyncio.get_running_loop().call_later(RECHECK, self._rechecked)
