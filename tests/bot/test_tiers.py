from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.lineup import WITHDRAWN_FOR, Lineup
from bot.tiers import BUILT_IN_TIERS, Tier, TierTable, load_tiers
from providers.config_file import ConfigFileError
from providers.models_file import load_catalog
from providers.registry import BUILT_IN, Catalog, Provider, Quality

CATALOG = load_catalog(None)
NOV_30 = datetime(2026, 11, 30, 12, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, tzinfo=UTC)
ALL = frozenset(Provider)
TABLE = TierTable(BUILT_IN_TIERS, "free")


def lineup(moment: datetime = NOV_30, keyed: frozenset[Provider] = ALL) -> Lineup:
    return Lineup(Catalog(BUILT_IN, clock=lambda: moment), keyed)


def keys(specs: object) -> list[str]:
    return [spec.key for spec in specs]  # type: ignore[attr-defined]  # a list of ModelSpec


def test_built_in_tiers_match_the_spec_table() -> None:
    rows = {
        t.name: (t.models, t.image_quality, t.video, t.scenes_per_day, t.member_scenes_per_day,
                 t.videos_per_day, t.max_references)
        for t in BUILT_IN_TIERS
    }  # fmt: skip
    assert rows == {
        "free": (("gpt-image-2", "grok-imagine"), Quality.LOW, False, 25, 10, 0, 1),
        "standard": (("gpt-image-2", "grok-imagine", "gemini"), Quality.MEDIUM, True, 200, 40,
                     20, 3),
        "premium": (None, Quality.HIGH, True, 1000, 200, 100, 5),
    }  # fmt: skip


def test_tier_models_are_in_order_of_preference() -> None:
    assert keys(lineup().models_of(TABLE.get("free"))) == ["gpt-image-2", "grok-imagine"]
    assert keys(lineup().models_of(TABLE.get("standard"))) == [
        "gpt-image-2",
        "grok-imagine",
        "gemini",
    ]


def test_premium_draws_with_every_live_model_active_ones_first() -> None:
    before = keys(lineup(NOV_30).models_of(TABLE.get("premium")))
    after = keys(lineup(DEC_1).models_of(TABLE.get("premium")))
    active = ["gpt-image-2", "gpt-image-2.6-flare", "gpt-image-2.6-sunburst", "grok-imagine",
              "gemini", "gemini-pro"]  # fmt: skip
    assert before == [*active, "gpt-image-1-mini", "gpt-image-1.5"]
    assert after == active


def test_a_model_without_its_key_is_skipped_and_the_next_one_is_the_default() -> None:
    xai_only = lineup(keyed=frozenset({Provider.XAI}))
    assert keys(xai_only.models_of(TABLE.get("free"))) == ["grok-imagine"]


@pytest.mark.parametrize(
    ("provider", "expected"),
    [(Provider.GEMINI, "gemini"), (Provider.OPENAI, "gpt-image-2"), (Provider.XAI, "grok-imagine")],
)
def test_with_one_providers_key_every_tier_can_draw(provider: Provider, expected: str) -> None:
    one = lineup(keyed=frozenset({provider}))
    for tier in BUILT_IN_TIERS:
        assert one.models_of(tier), f"{tier.name} has nothing to draw with"
    assert keys(one.models_of(TABLE.get("free")))[0] == expected


def test_the_fallback_is_the_cheapest_live_keyed_model_at_the_tiers_quality() -> None:
    tier = Tier("mini-only", ("gpt-image-1-mini",), False, 1, 1, 0, 1, Quality.HIGH)
    gemini_only = lineup(keyed=frozenset({Provider.GEMINI}))
    assert keys(gemini_only.models_of(tier)) == ["gemini"]  # 0.067 < gemini-pro's 0.134
    openai_after = lineup(DEC_1, frozenset({Provider.OPENAI}))
    assert keys(openai_after.models_of(tier)) == ["gpt-image-2"], "mini is retired: not named"


def test_a_retired_key_resolves_to_its_successor_when_the_tier_allows_it() -> None:
    resolved = lineup(DEC_1).for_tier("gpt-image-1-mini", TABLE.get("free"))
    assert resolved is not None
    assert resolved.spec.key == "gpt-image-2"
    assert resolved.notice == "GPT Image 1 Mini was retired on 1 Dec 2026; drawn with GPT Image 2"


def test_a_successor_the_tier_cannot_draw_with_gives_way_to_the_tiers_first_model() -> None:
    xai_only = lineup(DEC_1, frozenset({Provider.XAI, Provider.GEMINI}))
    resolved = xai_only.for_tier("gpt-image-1-mini", TABLE.get("standard"))
    assert resolved is not None
    assert resolved.spec.key == "grok-imagine"
    assert resolved.notice == (
        "GPT Image 1 Mini was retired on 1 Dec 2026; its successor GPT Image 2 is not available "
        "on this server's tier, so drawn with Grok Imagine"
    )


def test_the_day_before_a_deprecated_key_draws_itself_where_the_tier_allows_it() -> None:
    premium = TABLE.get("premium")
    resolved = lineup(NOV_30).for_tier("gpt-image-1-mini", premium)
    assert resolved is not None
    assert (resolved.spec.key, resolved.notice) == ("gpt-image-1-mini", None)
    assert lineup(NOV_30).shutdown_note(CATALOG.get("gpt-image-1-mini")) == "retires 1 Dec"
    assert lineup(DEC_1).shutdown_note(CATALOG.get("gpt-image-2")) is None


def test_a_withdrawn_model_is_hidden_for_an_hour_then_tried_again() -> None:
    now = [NOV_30]
    line = Lineup(Catalog(BUILT_IN, clock=lambda: now[0]), ALL)
    two = CATALOG.get("gpt-image-2")
    assert line.withdraw(two)
    assert not line.withdraw(two), "already withdrawn: no second warning"
    assert keys(line.models_of(TABLE.get("free"))) == ["grok-imagine"]
    now[0] = NOV_30 + WITHDRAWN_FOR - timedelta(seconds=1)
    assert not line.drawable(two)
    now[0] = NOV_30 + WITHDRAWN_FOR
    assert keys(line.models_of(TABLE.get("free"))) == ["gpt-image-2", "grok-imagine"]


def test_a_model_added_in_a_models_file_is_allowed_where_a_tier_allows_all(
    tmp_path: Path,
) -> None:
    path = tmp_path / "models.toml"
    path.write_text('[models.flux]\nprovider = "xai"\napi_model = "grok-imagine-image-2.0"\n')
    line = Lineup(load_catalog(path), ALL)
    assert "flux" in keys(line.models_of(TABLE.get("premium")))
    assert "flux" not in keys(line.models_of(TABLE.get("free")))


def test_unconfigured_or_removed_tier_falls_back_to_the_default() -> None:
    table = TierTable(BUILT_IN_TIERS, "standard")
    assert table.get(None).name == "standard"
    assert table.get("platinum").name == "standard"


def test_default_tier_must_exist() -> None:
    with pytest.raises(ValueError, match="DEFAULT_TIER"):
        TierTable(BUILT_IN_TIERS, "gold")


def test_tiers_file_replaces_the_built_in_table(tmp_path: Path) -> None:
    path = tmp_path / "tiers.toml"
    path.write_text(
        """
[tiers.hobby]
models = ["gemini", "grok-imagine"]
image_quality = "low"
video = true
scenes_per_day = 5
member_scenes_per_day = 2
videos_per_day = 1
max_references = 2

[tiers.studio]
models = "all"
image_quality = "high"
video = true
scenes_per_day = 500
member_scenes_per_day = 100
videos_per_day = 50
max_references = 5
"""
    )
    table = TierTable(load_tiers(path, CATALOG), "hobby")
    assert list(table.tiers) == ["hobby", "studio"]
    hobby = table.get("hobby")
    assert (hobby.scenes_per_day, hobby.member_scenes_per_day, hobby.videos_per_day) == (5, 2, 1)
    assert keys(lineup().models_of(hobby)) == ["gemini", "grok-imagine"]
    assert (hobby.image_quality, table.get("studio").image_quality) == (Quality.LOW, Quality.HIGH)
    assert "gpt-image-2" in keys(lineup().models_of(table.get("studio")))


def test_tiers_file_naming_an_unknown_model_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "tiers.toml"
    path.write_text(
        '[tiers.free]\nvideo = false\nmodels = ["dall-e-9"]\nscenes_per_day = 1\n'
        "member_scenes_per_day = 1\nvideos_per_day = 0\nmax_references = 1\n"
    )
    with pytest.raises(ConfigFileError) as caught:
        load_tiers(path, CATALOG)
    assert caught.value.line == 3
    assert "dall-e-9" in str(caught.value)


def test_tiers_file_with_a_negative_quota_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "tiers.toml"
    path.write_text(
        '[tiers.free]\nmodels = "all"\nvideo = false\nscenes_per_day = -1\n'
        "member_scenes_per_day = 1\nvideos_per_day = 0\nmax_references = 1\n"
    )
    with pytest.raises(ConfigFileError) as caught:
        load_tiers(path, CATALOG)
    assert caught.value.line == 4
    assert "scenes_per_day" in str(caught.value)


def test_tiers_file_missing_a_field_names_the_tier(tmp_path: Path) -> None:
    path = tmp_path / "tiers.toml"
    path.write_text('[tiers.free]\nmodels = "all"\n')
    with pytest.raises(ConfigFileError) as caught:
        load_tiers(path, CATALOG)
    assert caught.value.line == 1
    assert "video" in str(caught.value)


def test_tiers_file_with_an_unknown_image_quality_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "tiers.toml"
    path.write_text(
        '[tiers.free]\nmodels = "all"\nvideo = false\nscenes_per_day = 1\n'
        "member_scenes_per_day = 1\nvideos_per_day = 0\nmax_references = 1\n"
        'image_quality = "ultra"\n'
    )
    with pytest.raises(ConfigFileError) as caught:
        load_tiers(path, CATALOG)
    assert caught.value.line == 8
    assert "image_quality" in str(caught.value)
