"""The one hand-written retry policy (providers/retry.py), with a recording sleep."""

from __future__ import annotations

import email.utils
from collections.abc import Awaitable, Callable

import pytest

from providers.errors import (
    ContentRefused,
    InvalidRequest,
    InvalidResponse,
    Misconfigured,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    TooLarge,
    Unavailable,
)
from providers.retry import RetryPolicy, parse_retry_after, transient


class Script:
    """An operation that raises the scripted errors in turn, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def policy(
    sleeps: list[float],
    *,
    attempts: int = 3,
    initial_delay: float = 0.5,
    max_delay: float = 8.0,
    jitter: float = 0.25,
    max_retry_after: float = 60.0,
) -> RetryPolicy:
    """A policy whose sleep only records how long it was asked to wait."""

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return RetryPolicy(attempts, initial_delay, max_delay, max_retry_after, jitter, sleep=sleep)


def busy() -> Unavailable:
    return Unavailable("xAI", "HTTP 503")


async def run(retry: RetryPolicy, operation: Callable[[], Awaitable[str]]) -> str:
    return await retry.call(operation)


async def test_a_retry_after_is_waited_exactly_instead_of_the_backoff() -> None:
    sleeps: list[float] = []
    script = Script(RateLimited("xAI", "slow down", retry_after=7.0))
    assert await run(policy(sleeps), script) == "ok"
    assert (script.calls, sleeps) == (2, [7.0])


async def test_a_retry_after_longer_than_the_cap_is_not_waited_for() -> None:
    sleeps: list[float] = []
    script = Script(RateLimited("xAI", "come back tomorrow", retry_after=86_400.0))
    with pytest.raises(RateLimited):
        await run(policy(sleeps, max_retry_after=60.0), script)
    assert (script.calls, sleeps) == (1, [])


async def test_attempts_are_bounded_and_the_last_error_is_raised() -> None:
    sleeps: list[float] = []
    script = Script(busy(), busy(), busy(), ProviderTimeout("xAI", "slow"), busy())
    with pytest.raises(ProviderTimeout):
        await run(policy(sleeps, attempts=4), script)
    assert (script.calls, len(sleeps)) == (4, 3)


async def test_the_backoff_doubles_and_is_capped_without_jitter() -> None:
    sleeps: list[float] = []
    script = Script(*(busy() for _ in range(6)))
    retry = policy(sleeps, attempts=7, initial_delay=0.5, max_delay=4.0, jitter=0.0)
    assert await run(retry, script) == "ok"
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


async def test_jitter_only_ever_shortens_the_backoff() -> None:
    sleeps: list[float] = []
    await run(policy(sleeps, attempts=2, initial_delay=1.0, jitter=0.25), Script(busy()))
    [slept] = sleeps
    assert 0.75 <= slept <= 1.0


@pytest.mark.parametrize(
    "error",
    [
        ContentRefused("xAI", "moderation"),
        InvalidRequest("xAI", "HTTP 400"),
        InvalidResponse("xAI", "HTTP 404"),
        Misconfigured("xAI", "the API key was rejected"),
        TooLarge("xAI", "too big"),
        ValueError("a bug"),
    ],
    ids=lambda error: type(error).__name__,
)
async def test_refusals_invalid_requests_and_bugs_are_never_retried(error: Exception) -> None:
    sleeps: list[float] = []
    script = Script(error)
    with pytest.raises(type(error)):
        await run(policy(sleeps), script)
    assert (script.calls, sleeps) == (1, [])


@pytest.mark.parametrize(
    ("error", "decision"),
    [
        (RateLimited("xAI", "429"), True),
        (RateLimited("xAI", "429", retry_after=2.5), 2.5),
        (Unavailable("xAI", "503"), True),
        (ProviderTimeout("xAI", "408"), True),
        (ContentRefused("xAI", "no"), False),
        (InvalidRequest("xAI", "400"), False),
        (ProviderError("xAI", "?"), False),
    ],
)
def test_transient_names_what_is_worth_another_try(error: Exception, decision: object) -> None:
    assert transient(error) == decision


def test_a_policy_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, None), ("3", 3.0), ("0.25", 0.25), ("-4", 0.0), ("soon", None), ("inf", None)],
)
def test_retry_after_accepts_delta_seconds(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_retry_after_accepts_an_http_date() -> None:
    now = 1_800_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(30.0)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
