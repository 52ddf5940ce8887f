"""Operator TOML files (MODELS_FILE, TIERS_FILE): parse, validate, and point at the bad line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigFileError(Exception):
    """A broken operator file; the message names the file, the line and what is wrong."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


_TOML_LINE = re.compile(r"at line (\d+)")


def load_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Read and parse one operator file; returns the data and its text (for line look-ups)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(path, None, f"cannot read the file ({exc.strerror})") from exc
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        line = int(found.group(1)) if found else len(text.splitlines())  # end of document
        raise ConfigFileError(path, line, str(exc)) from exc


def validate(model: type[M], data: object, path: Path, text: str, where: str) -> M:
    """Validate `data` (the table `where`, e.g. 'models."x"') and map errors to a file line."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else None
        problem = f"[{where}] {field + ': ' if field else ''}{first['msg']}"
        raise ConfigFileError(path, line_of(text, where, field), problem) from exc


def line_of(text: str, table: str, field: str | None) -> int | None:
    """The line of `field` inside `[table]`, else the table header's line (quotes ignored)."""

    def bare(name: str) -> str:
        return re.sub(r"[\s\"']", "", name)

    lines = text.splitlines()
    wanted = bare(table)
    start = next((i for i, line in enumerate(lines) if bare(line).startswith(f"[{wanted}]")), None)
    if start is None:
        return None
    if field:
        key = re.compile(r"^\s*[\"']?" + re.escape(field) + r"[\"']?\s*=")
        for i in range(start + 1, len(lines)):
            if lines[i].lstrip().startswith("["):
                break
            if key.match(lines[i]):
                return i + 1
    return start + 1
