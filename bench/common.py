"""What every bot benchmark shares: figures, percentiles, the machine, the results file."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from storage.media import atomic_write

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured line of a table; `target` is the issue's bound, if it sets one."""

    name: str
    value: float
    unit: str
    detail: str = ""
    target: str = ""
    met: bool | None = None


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; exact enough for a few hundred samples and never interpolated
    below the worst sample that counts."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def machine() -> dict[str, object]:
    load = os.getloadavg()
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1m_at_start": round(load[0], 2),
    }


def scale() -> float:
    """BENCH_SCALE (0 < s ≤ 1) shortens every scenario for a smoke run; 1 runs the issue's."""
    value = float(os.environ.get("BENCH_SCALE", "1"))
    if not 0 < value <= 1:
        raise SystemExit("BENCH_SCALE must be in (0, 1]")
    return value


def table(title: str, figures: Sequence[Figure]) -> str:
    width = max(len(f.name) for f in figures)
    lines = [title, f"{'measure':<{width}}  {'value':>10}  {'unit':<8}  {'target':<12}  detail"]
    for f in figures:
        verdict = "" if f.met is None else (" ok" if f.met else " MISS")
        target = f.target + verdict
        lines.append(f"{f.name:<{width}}  {f.value:>10.3f}  {f.unit:<8}  {target:<12}  {f.detail}")
    return "\n".join(lines)


def write_results(name: str, figures: Sequence[Figure], extra: dict[str, object]) -> Path:
    payload = {
        "machine": machine(),
        "scale": scale(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "figures": [asdict(f) | {"value": round(f.value, 4)} for f in figures],
        **extra,
    }
    path = RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(payload, indent=2).encode() + b"\n")
    return path
