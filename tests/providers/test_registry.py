from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from providers.config_file import ConfigFileError
from providers.models_file import load_catalog
from providers.registry import (
    BUILT_IN,
    Catalog,
    Cost,
    NoLiveModel,
    Provider,
    Quality,
    Status,
    TextModel,
    text_model,
)

BEFORE_DEC_1 = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def at(moment: datetime) -> Catalog:
    return Catalog(BUILT_IN, clock=lambda: moment)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(text)
    return path


def test_built_in_catalog_matches_the_spec_table() -> None:
    rows = {
        s.key: (s.provider, s.api_model, s.max_references, s.input_fidelity, s.takes_quality,
                s.shutdown, s.successor)
        for s in BUILT_IN
    }  # fmt: skip
    dec_1 = date(2026, 12, 1)
    assert rows == {
        "gpt-image-1": (Provider.OPENAI, "gpt-image-1", 16, True, True, date(2026, 10, 23),
                        "gpt-image-2"),
        "gpt-image-1-mini": (Provider.OPENAI, "gpt-image-1-mini", 16, False, True, dec_1,
                             "gpt-image-2"),
        "gpt-image-1.5": (Provider.OPENAI, "gpt-image-1.5", 16, True, True, dec_1, "gpt-image-2"),
        "gpt-image-2": (Provider.OPENAI, "gpt-image-2", 16, False, True, None, None),
        "gpt-image-2.6-flare": (Provider.OPENAI, "gpt-image-2.6-flare", 16, False, True, None,
                                None),
        "gpt-image-2.6-sunburst": (Provider.OPENAI, "gpt-image-2.6-sunburst", 16, False, True,
                                   None, None),
        "grok-imagine": (Provider.XAI, "grok-imagine-image", 3, False, False, None, None),
        "gemini": (Provider.GEMINI, "gemini-3.1-flash-image", 14, False, False, None, None),
        "gemini-pro": (Provider.GEMINI, "gemini-3-pro-image", 14, False, False, None, None),
    }  # fmt: skip


def test_built_in_costs_per_quality_match_the_spec_table() -> None:
    costs = {s.key: s.cost for s in BUILT_IN if s.key != "gpt-image-1"}
    assert costs == {
        "gpt-image-1-mini": Cost(0.005, 0.011, 0.036),
        "gpt-image-1.5": Cost(0.009, 0.034, 0.133),
        "gpt-image-2": Cost(0.006, 0.053, 0.211),
        "gpt-image-2.6-flare": Cost(0.006, 0.053, 0.211),
        "gpt-image-2.6-sunburst": Cost(0.006, 0.053, 0.211),
        "grok-imagine": Cost.flat(0.02),
        "gemini": Cost.flat(0.067),
        "gemini-pro": Cost.flat(0.134),
    }
    mini = next(s for s in BUILT_IN if s.key == "gpt-image-1-mini")
    assert [mini.cost_usd(q) for q in Quality] == [0.005, 0.011, 0.036]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 29, 12, tzinfo=UTC), Status.DEPRECATED),
        (BEFORE_DEC_1, Status.DEPRECATED),
        (DEC_1, Status.RETIRED),
        (datetime(2027, 1, 1, tzinfo=UTC), Status.RETIRED),
    ],
)
def test_gpt_image_1_mini_is_deprecated_until_its_shutdown_morning(
    moment: datetime, expected: Status
) -> None:
    catalog = at(moment)
    assert catalog.status(catalog.get("gpt-image-1-mini")) is expected
    assert catalog.status(catalog.get("gpt-image-1.5")) is expected
    assert catalog.status(catalog.get("gpt-image-2")) is Status.ACTIVE


def test_the_status_is_decided_at_each_call_by_the_clock() -> None:
    now = [BEFORE_DEC_1]
    catalog = Catalog(BUILT_IN, clock=lambda: now[0])
    assert "gpt-image-1-mini" in {s.key for s in catalog.offered()}
    now[0] = DEC_1
    assert "gpt-image-1-mini" not in {s.key for s in catalog.offered()}


def test_a_shutdown_is_read_in_utc() -> None:
    from datetime import timedelta, timezone

    honolulu = timezone(timedelta(hours=-10))
    late_evening = datetime(2026, 11, 30, 15, tzinfo=honolulu)  # 1 Dec 01:00 UTC
    catalog = at(late_evening)
    assert catalog.status(catalog.get("gpt-image-1-mini")) is Status.RETIRED


def test_before_the_shutdown_a_deprecated_model_draws_itself() -> None:
    resolved = at(BEFORE_DEC_1).resolve("gpt-image-1-mini")
    assert (resolved.spec.key, resolved.notice) == ("gpt-image-1-mini", None)


def test_from_the_shutdown_a_model_is_drawn_by_its_successor_and_the_scene_says_so() -> None:
    resolved = at(DEC_1).resolve("gpt-image-1-mini")
    assert resolved.spec.key == "gpt-image-2"
    assert resolved.notice == "GPT Image 1 Mini was retired on 1 Dec 2026; drawn with GPT Image 2"


def test_gpt_image_1_was_retired_on_23_october() -> None:
    assert at(datetime(2026, 10, 22, 23, tzinfo=UTC)).resolve("gpt-image-1").notice is None
    assert at(datetime(2026, 10, 23, tzinfo=UTC)).resolve("gpt-image-1").notice == (
        "GPT Image 1 was retired on 23 Oct 2026; drawn with GPT Image 2"
    )


def test_the_successor_chain_is_followed_to_the_first_live_model() -> None:
    two = next(s for s in BUILT_IN if s.key == "gpt-image-2")
    specs = [
        *[s for s in BUILT_IN if s.key != "gpt-image-2"],
        replace(two, shutdown=date(2027, 2, 1), successor="gpt-image-2.6-flare"),
    ]
    catalog = Catalog(specs, clock=lambda: datetime(2027, 3, 1, tzinfo=UTC))
    resolved = catalog.resolve("gpt-image-1-mini")
    assert resolved.spec.key == "gpt-image-2.6-flare"
    assert resolved.notice == (
        "GPT Image 1 Mini was retired on 1 Dec 2026; drawn with GPT Image 2.6 Flare"
    )


def test_a_retired_model_without_a_live_successor_is_named_at_start() -> None:
    two = next(s for s in BUILT_IN if s.key == "gpt-image-2")
    flare = next(s for s in BUILT_IN if s.key == "gpt-image-2.6-flare")
    specs = [
        *[s for s in BUILT_IN if s.key not in {"gpt-image-2", "gpt-image-2.6-flare"}],
        replace(two, shutdown=date(2027, 2, 1), successor="gpt-image-2.6-flare"),
        replace(flare, status=Status.RETIRED),
    ]
    catalog = Catalog(specs, clock=lambda: datetime(2027, 2, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="'gpt-image-1' is retired and has no live successor"):
        catalog.validate_today()
    with pytest.raises(NoLiveModel):
        catalog.resolve("gpt-image-1-mini")
    Catalog(specs, clock=lambda: datetime(2027, 1, 31, tzinfo=UTC)).resolve("gpt-image-2")


def test_successor_loop_and_unknown_successor_are_rejected() -> None:
    a, b = BUILT_IN[0], BUILT_IN[1]
    with pytest.raises(ValueError, match="loops"):
        Catalog([replace(a, successor=b.key), replace(b, successor=a.key)])
    with pytest.raises(ValueError, match="unknown successor"):
        Catalog([replace(a, successor="dall-e-9")])


def test_models_file_adds_a_model_with_every_new_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[models."gpt-image-2.5-flare"]
display = "GPT Image 2.5 Flare"
provider = "openai"
api_model = "gpt-image-2.5-flare"
max_references = 16
input_fidelity = false
quality = true
shutdown = 2027-03-01
successor = "gpt-image-2"
status = "active"
cost_usd = { low = 0.006, medium = 0.053, high = 0.211 }
""",
    )
    spec = load_catalog(path).get("gpt-image-2.5-flare")
    assert (spec.display, spec.provider, spec.api_model, spec.takes_quality) == (
        "GPT Image 2.5 Flare",
        Provider.OPENAI,
        "gpt-image-2.5-flare",
        True,
    )
    assert (spec.shutdown, spec.successor, spec.status) == (
        date(2027, 3, 1),
        "gpt-image-2",
        Status.ACTIVE,
    )
    assert spec.cost == Cost(0.006, 0.053, 0.211)


def test_models_file_cost_may_be_one_number(tmp_path: Path) -> None:
    path = write(tmp_path, '[models.x]\nprovider = "xai"\napi_model = "x"\ncost_usd = 0.07\n')
    assert load_catalog(path).get("x").cost == Cost.flat(0.07)


def test_models_file_override_keeps_fields_it_leaves_out(tmp_path: Path) -> None:
    path = write(tmp_path, '[models.gemini]\napi_model = "gemini-3.2-flash-image"\n')
    spec = load_catalog(path).get("gemini")
    assert spec.api_model == "gemini-3.2-flash-image"
    assert (spec.max_references, spec.display) == (14, "Gemini Flash Image")


def test_models_file_retires_a_model_the_day_a_provider_announces_it(tmp_path: Path) -> None:
    path = write(tmp_path, '[models.gemini]\nshutdown = 2027-01-15\nsuccessor = "gemini-pro"\n')
    before = load_catalog(path, clock=lambda: datetime(2027, 1, 14, tzinfo=UTC))
    after = load_catalog(path, clock=lambda: datetime(2027, 1, 15, tzinfo=UTC))
    assert before.status(before.get("gemini")) is Status.DEPRECATED
    assert after.resolve("gemini").spec.key == "gemini-pro"


def test_models_file_status_overrides_the_dates(tmp_path: Path) -> None:
    path = write(tmp_path, '[models."gpt-image-1-mini"]\nstatus = "active"\n')
    catalog = load_catalog(path, clock=lambda: DEC_1)
    assert catalog.status(catalog.get("gpt-image-1-mini")) is Status.ACTIVE
    path = write(
        tmp_path, '[models."gpt-image-2"]\nstatus = "retired"\nsuccessor = "grok-imagine"\n'
    )
    resolved = load_catalog(path).resolve("gpt-image-2")
    assert resolved.notice == "GPT Image 2 was retired; drawn with Grok Imagine"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('[models.x]\nprovider = "openai"\napi_model = "x"\nmax_references = "many"\n', 4,
         "max_references"),
        ('[models.x]\nprovider = "acme"\napi_model = "x"\n', 2, "provider"),
        ('[models.x]\nprovider = "openai"\n', 1, "api_model"),
        ('[models.x]\nprovider = "openai"\napi_model = \n', 3, "line 3"),
        ('[models.x]\nprovider = "openai"\napi_model = "x"\ncolour = "red"\n', 4, "colour"),
        ('[models.x]\nprovider = "openai"\napi_model = "x"\nstatus = "retired"\n', 1,
         "successor"),
        ('[models.x]\nprovider = "openai"\napi_model = "x"\nshutdown = 2027-01-01\n', 1,
         "needs a successor"),
        ('[models.x]\nprovider = "xai"\napi_model = "x"\nshutdown = "soon"\nsuccessor = "gemini"\n',
         4, "shutdown"),
        ('[models.x]\nprovider = "xai"\napi_model = "x"\nshutdown = 2027-01-01\n'
         'successor = "dall-e-9"\n', 5, "dall-e-9"),
        ('[models.x]\nprovider = "xai"\napi_model = "x"\ncost_usd = { low = 0.1 }\n', 4,
         "cost_usd"),
        ('[models.x]\nprovider = "xai"\napi_model = "x"\ncost_usd = -1\n', 4, "cost_usd"),
        ('[models.x]\nprovider = "xai"\napi_model = "x"\nquality = "high"\n', 4, "quality"),
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


@pytest.mark.parametrize(
    ("keyed", "chosen"),
    [
        (
            {Provider.OPENAI, Provider.XAI, Provider.GEMINI},
            TextModel(Provider.OPENAI, "gpt-5.4-mini"),
        ),
        ({Provider.GEMINI, Provider.XAI}, TextModel(Provider.XAI, "grok-4.20-non-reasoning")),
        ({Provider.GEMINI}, TextModel(Provider.GEMINI, "gemini-3.8-flash")),
        (set(), None),
    ],
)
def test_scene_text_goes_to_the_first_keyed_provider_with_its_default(
    keyed: set[Provider], chosen: TextModel | None
) -> None:
    assert text_model(keyed) == chosen


def test_text_model_replaces_the_model_on_the_provider_chosen_only() -> None:
    assert text_model({Provider.GEMINI}, "gemini-3.5-flash") == TextModel(
        Provider.GEMINI, "gemini-3.5-flash"
    )
    assert text_model(set(), "gemini-3.5-flash") is None
