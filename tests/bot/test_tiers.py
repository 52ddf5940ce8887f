from pathlib import Path

import pytest

from bot.tiers import BUILT_IN_TIERS, TierTable, load_tiers
from providers.config_file import ConfigFileError
from providers.registry import load_catalog

CATALOG = load_catalog(None)


def allowed(tier_name: str) -> set[str]:
    tier = TierTable(BUILT_IN_TIERS, "free").get(tier_name)
    return {spec.key for spec in CATALOG.all if tier.allows(spec)}


def test_free_tier_allows_only_gpt_image_1_mini() -> None:
    assert allowed("free") == {"gpt-image-1-mini"}


def test_standard_tier_allows_all_but_gpt_image_1_5_and_2() -> None:
    assert allowed("standard") == {"gpt-image-1-mini", "grok-imagine", "gemini"}


def test_premium_allows_every_offered_model_but_never_a_retired_one() -> None:
    assert allowed("premium") == {
        "gpt-image-1-mini",
        "gpt-image-1.5",
        "gpt-image-2",
        "grok-imagine",
        "gemini",
    }


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
video = true
scenes_per_day = 5
member_scenes_per_day = 2
videos_per_day = 1
max_references = 2

[tiers.studio]
models = "all"
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
    assert hobby.allows(CATALOG.get("gemini"))
    assert not hobby.allows(CATALOG.get("gpt-image-2"))
    assert table.get("studio").allows(CATALOG.get("gpt-image-2"))


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
