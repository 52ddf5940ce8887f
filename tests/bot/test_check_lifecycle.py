"""`check` by date: lifecycle per model, shutdown warnings, tier fallback (injected clock)."""

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.check import report
from bot.lineup import Lineup
from bot.settings import Settings
from bot.tiers import BUILT_IN_TIERS, TierTable
from providers.registry import BUILT_IN, Catalog, ModelSpec, Provider, Status

NOV_29 = datetime(2026, 11, 29, 9, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, tzinfo=UTC)


def lines_at(
    moment: datetime,
    keyed: frozenset[Provider],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    specs: Iterable[ModelSpec] = BUILT_IN,
) -> list[str]:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DISCORD_TOKEN", "secret-token")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    lineup = Lineup(Catalog(specs, clock=lambda: moment), keyed)
    return report(settings, lineup, TierTable(BUILT_IN_TIERS, "free"))


def model_line(lines: list[str], key: str) -> str:
    return next(line for line in lines if line.strip().split()[:1] == [key])


ALL = frozenset(Provider)


def test_before_the_shutdown_check_shows_the_date_and_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = lines_at(NOV_29, ALL, tmp_path, monkeypatch)

    assert "deprecated (shutdown 2026-12-01 → gpt-image-2); available (tiers: premium)" in (
        model_line(lines, "gpt-image-1-mini")
    )
    assert "available (tiers: free, standard, premium)" in model_line(lines, "gpt-image-2")
    warnings = [line for line in lines if line.startswith("Warning:")]
    assert warnings == [
        "Warning: gpt-image-1-mini retires on 2026-12-01 (in 2 days) and tier(s) premium still "
        "draw with it; from then on gpt-image-2 stands in.",
        "Warning: gpt-image-1.5 retires on 2026-12-01 (in 2 days) and tier(s) premium still "
        "draw with it; from then on gpt-image-2 stands in.",
    ]
    assert "secret-token" not in "\n".join(lines)


def test_from_the_shutdown_check_shows_the_model_retired_and_its_successor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = lines_at(DEC_1, ALL, tmp_path, monkeypatch)

    assert model_line(lines, "gpt-image-1-mini").endswith(
        "retired on 2026-12-01 → gpt-image-2 (GPT Image 2)"
    )
    assert not [line for line in lines if line.startswith("Warning:")]


@pytest.mark.parametrize(
    ("moment", "warned"),
    [(datetime(2026, 11, 1, tzinfo=UTC), True), (datetime(2026, 10, 31, tzinfo=UTC), False)],
)
def test_shutdowns_are_warned_of_from_30_days_ahead(
    moment: datetime, warned: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = lines_at(moment, ALL, tmp_path, monkeypatch)
    assert any(line.startswith("Warning: gpt-image-1-mini") for line in lines) is warned


def test_a_shutdown_no_tier_draws_with_is_not_warned_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = lines_at(NOV_29, frozenset({Provider.XAI}), tmp_path, monkeypatch)
    assert "missing key (OPENAI_API_KEY)" in model_line(lines, "gpt-image-1-mini")
    assert not [line for line in lines if line.startswith("Warning:")]


def test_a_tier_none_of_whose_models_has_a_key_falls_back_and_check_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = lines_at(NOV_29, frozenset({Provider.GEMINI}), tmp_path, monkeypatch)

    free = lines.index(next(line for line in lines if line.startswith("  free")))
    assert lines[free + 1] == (
        "    none of its models can draw (no key set); falls back to gemini, "
        "the cheapest model with a key"
    )
    assert "available (tiers: free, standard, premium)" in model_line(lines, "gemini")
    assert "available (tiers: premium)" in model_line(lines, "gemini-pro")


def test_check_names_what_will_really_stand_in_when_the_successor_retires_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A MODELS_FILE moves GPT Image 2's shutdown before GPT Image 1 Mini's: on 1 Dec Mini's
    stories go down the chain to Flare, and the free tier, which has no Flare, to Grok Imagine."""
    early = {"shutdown": date(2026, 11, 30), "successor": "gpt-image-2.6-flare"}
    specs = [replace(spec, **early) if spec.key == "gpt-image-2" else spec for spec in BUILT_IN]

    lines = lines_at(NOV_29, ALL, tmp_path, monkeypatch, specs)

    assert "deprecated (shutdown 2026-12-01 → gpt-image-2.6-flare)" in (
        model_line(lines, "gpt-image-1-mini")
    )
    warnings = [line for line in lines if line.startswith("Warning:")]
    assert warnings[0] == (
        "Warning: gpt-image-1-mini retires on 2026-12-01 (in 2 days) and tier(s) premium still "
        "draw with it; from then on gpt-image-2.6-flare stands in."
    )
    assert (
        "Warning: gpt-image-2 retires on 2026-11-30 (in 1 days) and tier(s) free, standard, "
        "premium still draw with it; from then on grok-imagine stands in on free, standard; "
        "gpt-image-2.6-flare on premium."
    ) in warnings


def test_a_status_set_in_models_file_keeps_the_successor_check_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """status = "deprecated" overrides the date: the model itself never stands in for itself."""
    specs = [
        replace(spec, status=Status.DEPRECATED) if spec.key == "gpt-image-1-mini" else spec
        for spec in BUILT_IN
    ]
    lines = lines_at(NOV_29, ALL, tmp_path, monkeypatch, specs)
    assert "deprecated (shutdown 2026-12-01 → gpt-image-2)" in model_line(lines, "gpt-image-1-mini")
    assert any(
        line.startswith("Warning: gpt-image-1-mini") and line.endswith("gpt-image-2 stands in.")
        for line in lines
    )
