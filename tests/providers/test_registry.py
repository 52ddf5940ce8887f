from dataclasses import replace
from pathlib import Path

import pytest

from providers.config_file import ConfigFileError
from providers.registry import BUILT_IN, Catalog, Provider, Status, load_catalog


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(text)
    return path


def test_built_in_catalog_matches_the_spec_table() -> None:
    catalog = load_catalog(None)
    rows = {
        s.key: (s.provider, s.api_model, s.max_references, s.input_fidelity, s.status)
        for s in catalog.all
    }
    assert rows == {
        "gpt-image-1": (Provider.OPENAI, "gpt-image-1", 16, True, Status.RETIRED),
        "gpt-image-1-mini": (Provider.OPENAI, "gpt-image-1-mini", 16, False, Status.ACTIVE),
        "gpt-image-1.5": (Provider.OPENAI, "gpt-image-1.5", 16, True, Status.ACTIVE),
        "gpt-image-2": (Provider.OPENAI, "gpt-image-2", 16, False, Status.ACTIVE),
        "grok-imagine": (Provider.XAI, "grok-imagine-image", 3, False, Status.ACTIVE),
        "gemini": (Provider.GEMINI, "gemini-2.5-flash-image", 3, False, Status.ACTIVE),
    }


def test_retired_gpt_image_1_resolves_to_its_successor_and_says_so() -> None:
    resolved = load_catalog(None).resolve("gpt-image-1")
    assert resolved.spec.key == "gpt-image-1.5"
    assert resolved.notice == "GPT Image 1 is retired; drawn with GPT Image 1.5"


def test_active_model_resolves_to_itself_without_notice() -> None:
    resolved = load_catalog(None).resolve("gemini")
    assert resolved.spec.key == "gemini"
    assert resolved.notice is None


def test_retired_models_are_not_offered() -> None:
    offered = {spec.key for spec in load_catalog(None).offered()}
    assert "gpt-image-1" not in offered
    assert "gpt-image-1-mini" in offered


def test_models_file_adds_a_model_of_a_known_provider(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[models."gpt-image-2.5-flare"]
display = "GPT Image 2.5 Flare"
provider = "openai"
api_model = "gpt-image-2.5-flare"
max_references = 16
input_fidelity = false
status = "active"
cost_usd = 0.05
""",
    )
    spec = load_catalog(path).get("gpt-image-2.5-flare")
    assert (spec.display, spec.provider, spec.api_model, spec.cost_usd) == (
        "GPT Image 2.5 Flare",
        Provider.OPENAI,
        "gpt-image-2.5-flare",
        0.05,
    )


def test_models_file_override_keeps_fields_it_leaves_out(tmp_path: Path) -> None:
    path = write(tmp_path, '[models.gemini]\napi_model = "gemini-3-pro-image-preview"\n')
    spec = load_catalog(path).get("gemini")
    assert spec.api_model == "gemini-3-pro-image-preview"
    assert spec.max_references == 3
    assert spec.display == "Gemini"


def test_models_file_can_retire_a_model_onto_a_successor(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[models."gpt-image-1-mini"]\nstatus = "retired"\nsuccessor = "gpt-image-2"\n'
    )
    assert load_catalog(path).resolve("gpt-image-1-mini").spec.key == "gpt-image-2"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('[models.x]\nprovider = "openai"\napi_model = "x"\nmax_references = "many"\n', 4,
         "max_references"),
        ('[models.x]\nprovider = "acme"\napi_model = "x"\n', 2, "provider"),
        ('[models.x]\nprovider = "openai"\n', 1, "api_model"),
        ('[models.x]\nprovider = "openai"\napi_model = \n', 3, "line 3"),
        ('[models.x]\nprovider = "openai"\napi_model = "x"\ncolour = "red"\n', 4, "colour"),
        ('[models.x]\nprovider = "openai"\napi_model = "x"\nstatus = "retired"\n', None,
         "successor"),
    ],
)  # fmt: skip
def test_broken_models_file_names_the_file_line_and_problem(
    tmp_path: Path, text: str, line: int | None, fragment: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError) as caught:
        load_catalog(path)
    assert caught.value.line == line
    assert str(path) in str(caught.value)
    assert fragment in str(caught.value)


def test_successor_loop_is_rejected() -> None:
    a, b = BUILT_IN[0], BUILT_IN[1]
    looped = [
        replace(a, status=Status.RETIRED, successor=b.key),
        replace(b, status=Status.RETIRED, successor=a.key),
    ]
    with pytest.raises(ValueError, match="loops"):
        Catalog(looped)
