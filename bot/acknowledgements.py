"""Acknowledgements come before work: a scene's provider calls start once every interaction that
reached this process before it has been acknowledged.

Every step of every scene runs on the one event loop. Without an order, the first scenes of a
burst write their text and draw while the last interactions of the same burst still wait for
their quota check and deferral, which Discord wants within 3 s and members read as the bot's
responsiveness (docs/PERFORMANCE.md, "Acknowledgements first"). Only interactions that arrived
earlier are waited for, so a steady stream cannot starve a scene, and an interaction that is
not acknowledged within MAX_WAIT of arriving holds nothing back any more.

Discord-free: an interaction is a key and a way to ask whether it has been answered.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

# A burst of 200 is acknowledged in about 0.1 s on two cores; waiting longer than this for one
# slow acknowledgement would only delay scenes.
MAX_WAIT = 0.5
# How often waiting scenes look again while the oldest interaction is answered by a path that
# does not report it here (an autocomplete, a refusal, a button's own answer).
RECHECK = 0.005


@dataclass(frozen=True, slots=True)
class _Arrival:
    order: int
    at: float
    answered: Callable[[], bool]


class Acknowledgements:
    """The interactions of this process that arrived and are not acknowledged yet, and the
    scenes waiting for them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._order = itertools.count()
        self._pending: dict[int, _Arrival] = {}  # by interaction id, in order of arrival
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []  # heap by arrival order
        self._recheck: asyncio.TimerHandle | None = None

    def arrived(self, key: int, answered: Callable[[], bool]) -> None:
        """An interaction was received; `answered` tells whether it has been acknowledged."""
        self._pending[key] = _Arrival(next(self._order), self._clock(), answered)

    def answered(self, key: int) -> None:
        """The interaction was acknowledged: scenes behind it may go on."""
        if self._pending.pop(key, None) is not None:
            self._release()

    async def after_earlier(self, key: int) -> None:
        """`key` was acknowledged; return once every interaction that arrived before it has
        been too (or is older than MAX_WAIT)."""
        mine = self._pending.pop(key, None)
        self._release()
        if mine is None or self._oldest() > mine.order:
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (mine.order, future))
        self._schedule_recheck()
        await future

    def _oldest(self) -> int:
        """The arrival order of the oldest interaction still waiting; forgets the answered and
        the expired ones in front of it."""
        now = self._clock()
        while self._pending:
            key, arrival = next(iter(self._pending.items()))
            if not arrival.answered() and now - arrival.at <= MAX_WAIT:
                return arrival.order
            del self._pending[key]
        return sys.maxsize

    def _release(self) -> None:
        oldest = self._oldest()
        while self._waiters and self._waiters[0][0] < oldest:
            _, future = heapq.heappop(self._waiters)
            if not future.done():  # a scene cancelled while it waited is simply dropped
                future.set_result(None)

    def _schedule_recheck(self) -> None:
        if self._recheck is None and self._waiters:
            self._recheck = asyncio.get_running_loop().call_later(RECHECK, self._rechecked)

    def _rechecked(self) -> None:
        self._recheck = None
        self._release()
        self._schedule_recheck()
