"""IDENTIFYs one after another across processes (SPEC §11).

Discord allows `max_concurrency` IDENTIFYs per 5 s, one per rate-limit bucket
(`shard_id % max_concurrency`); one more is refused (Opcode 9) and costs a retry. Within one
process discord.py paces its own shards (its default `before_identify_hook` waits 5 s before
each but the first). Processes sharing a PostgreSQL database take turns through it instead: a
shard about to IDENTIFY takes its bucket's advisory lock and keeps it for the 5 s window after,
so the next IDENTIFY of that bucket, from any process, waits for the window to pass. A process
that dies holding the lock loses its connection, and PostgreSQL releases the lock with it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import discord

from storage.sql import Backend

log = logging.getLogger(__name__)

IDENTIFY_WINDOW: Final = 5.0  # seconds, Discord's
# Discord counts from when the IDENTIFY arrives, a network trip after the turn is taken.
MARGIN: Final = 1.0
TURN_KEY: Final = 0x4944454E54 << 16  # "IDENT", then the bucket in the low 16 bits
TURN_WAIT: Final = 600.0  # longer than 100 shards of one bucket ahead of this one


class IdentifyTurns:
    """The `before_identify_hook` of processes on a shared database."""

    def __init__(self, backend: Backend, client: discord.AutoShardedClient) -> None:
        self._backend = backend
        self._client = client
        self._concurrency: int | None = None
        self._holds: set[asyncio.Task[None]] = set()

    async def take(self, shard_id: int) -> None:
        """Return when `shard_id` may IDENTIFY; its bucket stays taken for the window after."""
        bucket = shard_id % await self._max_concurrency()
        taken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        hold = asyncio.create_task(self._hold(bucket, taken), name=f"identify-turn-{bucket}")
        self._holds.add(hold)
        hold.add_done_callback(self._holds.discard)
        try:
            await taken
        except asyncio.CancelledError:
            hold.cancel()
            raise
        log.info("shard %d identifies (bucket %d's turn)", shard_id, bucket)

    async def close(self) -> None:
        """Give the turns held back (before the database pool closes)."""
        for hold in list(self._holds):
            hold.cancel()
        await asyncio.gather(*self._holds, return_exceptions=True)

    async def _hold(self, bucket: int, taken: asyncio.Future[None]) -> None:
        try:
            async with self._backend.turn(TURN_KEY + bucket, wait=TURN_WAIT):
                if not taken.done():
                    taken.set_result(None)
                await asyncio.sleep(IDENTIFY_WINDOW + MARGIN)
        except Exception:
            if taken.done():
                log.warning("identify turn %d not given back cleanly", bucket, exc_info=True)
                return
            # Without a turn the shard still connects: Discord refuses an IDENTIFY too early
            # with Opcode 9, and discord.py identifies again after its own wait.
            log.warning("no identify turn from the database; identifying anyway", exc_info=True)
            taken.set_result(None)
        finally:
            if not taken.done():  # closed while waiting for the turn: the shard stops too
                taken.cancel()

    async def _max_concurrency(self) -> int:
        if self._concurrency is None:
            try:
                limits = await self._client.fetch_session_start_limits()
            except (discord.HTTPException, discord.GatewayNotFound):
                log.warning("session start limits unknown; identifying one shard at a time")
                return 1
            self._concurrency = max(limits.max_concurrency, 1)
        return self._concurrency
