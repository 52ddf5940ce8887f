"""The event loop the bot runs on: uvloop where the platform has it (SPEC §1), asyncio's own
elsewhere. uvloop's loop spends less CPU per callback and per socket read than the default
selector loop, which is most of what a scene costs outside the SDKs (docs/PERFORMANCE.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's `new_event_loop`, or None (asyncio's default) where uvloop is not installed,
    as on Windows, which it does not support."""
    try:
        import uvloop  # optional by platform, so imported only here
    except ImportError:
        return None
    return uvloop.new_event_loop
