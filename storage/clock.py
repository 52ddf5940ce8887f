"""UTC time as StoryBot stores it: aware datetimes in code, fixed-width ISO text in SQLite."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

Clock = Callable[[], datetime]

# Fixed width (always microseconds, always "Z") so that text order is time order in SQL.
_DB_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def to_db_time(moment: datetime) -> str:
    """Aware datetime → sortable UTC text; naive datetimes are refused (their zone is a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: pass a timezone-aware datetime")
    return moment.astimezone(UTC).strftime(_DB_FORMAT)


def from_db_time(text: str) -> datetime:
    """Stored UTC text → aware datetime."""
    # fromisoformat reads the trailing "Z" as UTC and is ~50x faster than strptime, which
    # matters when the video loop parses a thousand job rows per tick.
    return datetime.fromisoformat(text)


def utc_day(moment: datetime) -> str:
    """The UTC calendar day of `moment` as YYYY-MM-DD (the quota day)."""
    return to_db_time(moment)[:10]


def next_utc_midnight(moment: datetime) -> datetime:
    """When the quota day containing `moment` ends (quotas reset then)."""
    day = date.fromisoformat(utc_day(moment))
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
