"""The one hand-written retry policy, for HTTP calls no SDK retries for us (video downloads).

The OpenAI SDK already retries everything we send to OpenAI and xAI; wrapping it again would
multiply attempts. What is transient is decided on our own error tree: rate limits, 5xx or
unreachable hosts and timeouts are retried; refusals, invalid requests and answers never are.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from providers.errors import ProviderTimeout, RateLimited, Unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

# What a classifier answers: False = give up, True = retry after backoff, float = retry after
# exactly that many seconds (a server's Retry-After).
Decision = bool | float


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        seconds = email.utils.mktime_tz(parsed) - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def transient(exc: BaseException) -> Decision:
    """Rate limits, 5xx/unreachable and timeouts are worth another try; a Retry-After wins."""
    if not isinstance(exc, RateLimited | Unavailable | ProviderTimeout):
        return False
    hint = getattr(exc, "retry_after", None)  # RateLimited, and any subclass that carries one
    return float(hint) if isinstance(hint, int | float) else True


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded attempts with capped exponential backoff and jitter; `sleep` is the test switch."""

    attempts: int = 3
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0  # a server asking for longer than this is not waited for
    jitter: float = 0.25
    retry_on: Callable[[BaseException], Decision] = transient
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Await `operation()` until it succeeds, fails for good or the attempts run out."""
        attempt = 1
        while True:
            try:
                return await operation()
            except Exception as exc:
                wait = self.delay(exc, attempt)
                if wait is None:
                    raise
                log.info("attempt %d failed (%s); retrying in %.2fs", attempt, exc, wait)
            await self.sleep(wait)
            attempt += 1

    def delay(self, exc: BaseException, attempt: int) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to give up."""
        if attempt >= self.attempts:
            return None
        decision = self.retry_on(exc)
        if isinstance(decision, bool):
            return self._backoff(attempt) if decision else None
        if decision > self.max_retry_after:
            return None
        return max(0.0, float(decision))

    def _backoff(self, attempt: int) -> float:
        delay = min(self.initial_delay * 2.0 ** (attempt - 1), self.max_delay)
        return delay * (1 - self.jitter * random.random())  # noqa: S311 - jitter, not crypto
