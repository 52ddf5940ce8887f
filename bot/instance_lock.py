"""One StoryBot per DATA_DIR: a second process started on the same data refuses to run
instead of racing the first one's video jobs."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = "storybot.lock"


class DataDirInUse(Exception):
    """Another live process holds the DATA_DIR lock."""


@contextlib.contextmanager
def hold_data_dir(data_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on DATA_DIR for the process's life; the OS drops it on exit,
    so a crashed bot never leaves a stale lock behind."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / LOCK_NAME).open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise DataDirInUse(
                f"{data_dir} is in use by StoryBot process {holder}; run one bot per DATA_DIR"
            ) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        yield
