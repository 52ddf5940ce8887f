"""OpenAIImages against the loopback stand-in, through the real openai SDK over real HTTP."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import openai
import pytest

from providers.base import ImageRequest, ReferenceImage
from providers.errors import (
    ContentRefused,
    InvalidResponse,
    Misconfigured,
    ModelGone,
    ProviderTimeout,
    Unavailable,
)
from providers.models_file import load_catalog
from providers.openai_images import OpenAIImages
from providers.registry import BUILT_IN, ModelSpec, Provider, Quality, Status
from tests.fakes.openai_api import EDITS, GENERATIONS, OpenAIStandin, describe, error_body
from tests.fakes.pictures import jpeg, png, webp

MAX_RETRIES = 2
TODAY = date(2026, 11, 29)  # the stand-in's date: mini and 1.5 still served, 1 shut down
OFFERED = tuple(
    s
    for s in BUILT_IN
    if s.provider is Provider.OPENAI and s.status_on(TODAY) is not Status.RETIRED
)
# Which offered model sends input_fidelity="high" with reference photos (SPEC §4).
FIDELITY = {
    "gpt-image-1-mini": False,
    "gpt-image-1.5": True,
    "gpt-image-2": False,
    "gpt-image-2.6-flare": False,
    "gpt-image-2.6-sunburst": False,
}
REFERENCES = (
    ReferenceImage(png((16, 16), "red"), "image/png"),
    ReferenceImage(jpeg((16, 16), "blue"), "image/jpeg"),
    ReferenceImage(webp((16, 16), "green"), "image/webp"),
)


def by_key(key: str) -> ModelSpec:
    return next(spec for spec in BUILT_IN if spec.key == key)


@pytest.fixture
async def client(openai_standin: OpenAIStandin) -> AsyncIterator[openai.AsyncOpenAI]:
    openai_standin.today = TODAY
    async with openai.AsyncOpenAI(
        base_url=openai_standin.base_url,
        api_key="test-key",
        max_retries=MAX_RETRIES,
        timeout=5.0,
    ) as client:
        yield client


@pytest.fixture
def images(client: openai.AsyncOpenAI) -> OpenAIImages:
    return OpenAIImages(client)


def test_the_offered_openai_models_are_the_ones_these_tests_know() -> None:
    assert {spec.key for spec in OFFERED} == set(FIDELITY)


@pytest.mark.parametrize("spec", OFFERED, ids=lambda spec: spec.key)
async def test_without_references_each_model_draws_a_png_through_generate(
    spec: ModelSpec, images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    result = await images.generate(spec, ImageRequest("a fox in a lighthouse"))

    assert describe(result.png) == (openai_standin.size, openai_standin.color)
    assert result.png.startswith(b"\x89PNG")
    assert result.model == spec
    assert openai_standin.requests_to(EDITS) == []
    [sent] = openai_standin.requests_to(GENERATIONS)
    assert sent.fields["model"] == spec.api_model
    assert sent.fields["prompt"] == "a fox in a lighthouse"
    assert sent.fields["n"] == 1
    assert sent.fields["size"] == "1024x1024"
    assert "quality" not in sent.fields, "no tier quality given: the API's default"
    assert sent.fields["output_format"] == "png"
    assert "response_format" not in sent.fields
    assert "input_fidelity" not in sent.fields
    assert sent.headers["authorization"] == "Bearer test-key"


@pytest.mark.parametrize("spec", OFFERED, ids=lambda spec: spec.key)
async def test_with_references_each_model_draws_a_png_through_edit_carrying_the_photos(
    spec: ModelSpec, images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    result = await images.generate(spec, ImageRequest("the fox again", REFERENCES))

    assert describe(result.png) == (openai_standin.size, openai_standin.color)
    assert openai_standin.requests_to(GENERATIONS) == []
    [sent] = openai_standin.requests_to(EDITS)
    assert sent.content_type.startswith("multipart/form-data")
    assert [part.data for part in sent.images] == [ref.data for ref in REFERENCES]
    assert [part.content_type for part in sent.images] == [ref.mime_type for ref in REFERENCES]
    assert {part.field for part in sent.images} == {"image[]"}
    assert sent.fields["model"] == spec.api_model
    assert sent.fields["prompt"] == "the fox again"
    assert sent.fields["output_format"] == "png"
    assert "response_format" not in sent.fields


@pytest.mark.parametrize("spec", OFFERED, ids=lambda spec: spec.key)
async def test_input_fidelity_high_is_sent_exactly_for_gpt_image_1_5(
    spec: ModelSpec, images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    await images.generate(spec, ImageRequest("the fox again", REFERENCES[:1]))

    [sent] = openai_standin.requests_to(EDITS)
    if FIDELITY[spec.key]:
        assert sent.fields["input_fidelity"] == "high"
    else:
        assert "input_fidelity" not in sent.fields


async def test_gpt_image_1_mini_never_sends_input_fidelity(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    await images.generate(by_key("gpt-image-1-mini"), ImageRequest("fox", REFERENCES))
    await images.generate(by_key("gpt-image-1-mini"), ImageRequest("fox"))

    assert all("input_fidelity" not in sent.fields for sent in openai_standin.requests)


async def test_gpt_image_2_never_sends_input_fidelity(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    await images.generate(by_key("gpt-image-2"), ImageRequest("fox", REFERENCES))
    await images.generate(by_key("gpt-image-2"), ImageRequest("fox"))

    assert all("input_fidelity" not in sent.fields for sent in openai_standin.requests)


@pytest.mark.parametrize("fidelity", [True, False])
async def test_a_models_file_entry_decides_input_fidelity(
    fidelity: bool, tmp_path: Path, images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    models_file = tmp_path / "models.toml"
    models_file.write_text(
        '[models."gpt-image-2.5-flare"]\n'
        'provider = "openai"\n'
        'api_model = "gpt-image-2.5-flare"\n'
        "max_references = 16\n"
        f"input_fidelity = {str(fidelity).lower()}\n",
        encoding="utf-8",
    )
    spec = load_catalog(models_file).get("gpt-image-2.5-flare")

    await images.generate(spec, ImageRequest("fox", REFERENCES))

    [sent] = openai_standin.requests_to(EDITS)
    assert sent.fields["model"] == "gpt-image-2.5-flare"
    assert sent.fields.get("input_fidelity") == ("high" if fidelity else None)


async def test_references_beyond_the_models_limit_are_dropped_keeping_the_first(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    spec = replace(by_key("gpt-image-1.5"), max_references=2)

    await images.generate(spec, ImageRequest("fox", REFERENCES))

    [sent] = openai_standin.requests_to(EDITS)
    assert [part.data for part in sent.images] == [ref.data for ref in REFERENCES[:2]]


async def test_a_picture_in_another_format_comes_back_as_png(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    openai_standin.queue(GENERATIONS, b64_json=base64.b64encode(jpeg((20, 10))).decode())

    result = await images.generate(by_key("gpt-image-2"), ImageRequest("fox"))

    assert result.png.startswith(b"\x89PNG")
    assert describe(result.png)[0] == (20, 10)


@pytest.mark.parametrize("route", [GENERATIONS, EDITS])
@pytest.mark.parametrize("quality", list(Quality))
async def test_the_tier_quality_is_sent_as_quality(
    route: str, quality: Quality, images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    references = REFERENCES if route == EDITS else ()
    await images.generate(by_key("gpt-image-2"), ImageRequest("fox", references, quality))

    [sent] = openai_standin.requests_to(route)
    assert sent.fields["quality"] == quality.value


async def test_a_model_that_takes_no_quality_is_sent_none(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    spec = replace(by_key("gpt-image-2"), takes_quality=False)
    await images.generate(spec, ImageRequest("fox", (), Quality.HIGH))

    [sent] = openai_standin.requests_to(GENERATIONS)
    assert "quality" not in sent.fields


@pytest.mark.parametrize("route", [GENERATIONS, EDITS])
async def test_a_model_openai_shut_down_is_model_gone_naming_the_model(
    route: str, images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    openai_standin.today = date(2026, 12, 1)  # gpt-image-1-mini's shutdown day
    references = REFERENCES if route == EDITS else ()

    with pytest.raises(ModelGone) as caught:
        await images.generate(by_key("gpt-image-1-mini"), ImageRequest("fox", references))

    assert (caught.value.model_key, caught.value.model_display) == (
        "gpt-image-1-mini",
        "GPT Image 1 Mini",
    )
    assert caught.value.provider == "OpenAI"
    assert len(openai_standin.requests_to(route)) == 1, "a 404 is not retried"


async def test_the_day_before_its_shutdown_a_model_still_draws(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    openai_standin.today = date(2026, 11, 30)
    result = await images.generate(by_key("gpt-image-1-mini"), ImageRequest("fox"))
    assert result.png.startswith(b"\x89PNG")


async def test_a_404_without_model_not_found_is_not_model_gone(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    openai_standin.queue(GENERATIONS, status=404, json=error_body(404, "No such route"))

    with pytest.raises(Misconfigured) as caught:
        await images.generate(by_key("gpt-image-2"), ImageRequest("fox"))

    assert not isinstance(caught.value, ModelGone)


async def test_a_model_of_another_provider_is_refused_and_never_sent(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    with pytest.raises(Misconfigured):
        await images.generate(by_key("grok-imagine"), ImageRequest("fox"))

    assert openai_standin.requests == []


@pytest.mark.parametrize("route", [GENERATIONS, EDITS])
async def test_a_moderation_refusal_is_content_refused_with_the_providers_message(
    route: str, images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    openai_standin.refuse(route, "Your request was rejected by the safety system.")
    references = REFERENCES if route == EDITS else ()

    with pytest.raises(ContentRefused) as caught:
        await images.generate(by_key("gpt-image-1.5"), ImageRequest("fox", references))

    assert caught.value.reason == "Your request was rejected by the safety system."
    assert len(openai_standin.requests) == 1  # a refusal is never retried


async def test_a_rate_limit_then_success_returns_the_png_after_two_requests(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    openai_standin.queue(GENERATIONS, status=429, headers={"retry-after": "0"})

    result = await images.generate(by_key("gpt-image-1-mini"), ImageRequest("fox"))

    assert describe(result.png) == (openai_standin.size, openai_standin.color)
    assert len(openai_standin.requests_to(GENERATIONS)) == 2


async def test_a_5xx_that_never_recovers_is_unavailable_after_bounded_retries(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    openai_standin.always(EDITS, status=503, headers={"retry-after-ms": "1"})

    with pytest.raises(Unavailable):
        await images.generate(by_key("gpt-image-2"), ImageRequest("fox", REFERENCES))

    assert len(openai_standin.requests_to(EDITS)) == MAX_RETRIES + 1


async def test_no_answer_within_the_timeout_is_provider_timeout(
    client: openai.AsyncOpenAI, openai_standin: OpenAIStandin
) -> None:
    openai_standin.always(GENERATIONS, delay=30)
    images = OpenAIImages(client.with_options(timeout=1.0, max_retries=1))

    with pytest.raises(ProviderTimeout):
        await images.generate(by_key("gpt-image-1.5"), ImageRequest("fox"))

    assert len(openai_standin.requests_to(GENERATIONS)) == 2


async def test_malformed_json_is_an_invalid_response(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    openai_standin.malformed(GENERATIONS)

    with pytest.raises(InvalidResponse):
        await images.generate(by_key("gpt-image-1.5"), ImageRequest("fox"))


async def test_a_non_json_answer_is_an_invalid_response(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    openai_standin.queue(GENERATIONS, body=b"<html>Bad gateway</html>", content_type="text/html")

    with pytest.raises(InvalidResponse):
        await images.generate(by_key("gpt-image-1.5"), ImageRequest("fox"))


async def test_a_returned_picture_that_is_not_an_image_is_an_invalid_response(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    openai_standin.not_an_image(EDITS)

    with pytest.raises(InvalidResponse):
        await images.generate(by_key("gpt-image-1.5"), ImageRequest("fox", REFERENCES))


@pytest.mark.parametrize(
    "answer",
    [{"created": 1, "data": []}, {"created": 1, "data": [{}]}, {"created": 1}],
    ids=["no-data", "no-b64", "no-list"],
)
async def test_an_answer_without_a_picture_is_an_invalid_response(
    answer: object, images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    openai_standin.queue(GENERATIONS, json=answer)

    with pytest.raises(InvalidResponse, match="no picture"):
        await images.generate(by_key("gpt-image-2"), ImageRequest("fox"))


async def test_b64_json_that_is_not_base64_is_an_invalid_response(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    openai_standin.queue(GENERATIONS, b64_json="not base64 at all!")

    with pytest.raises(InvalidResponse, match="base64"):
        await images.generate(by_key("gpt-image-2"), ImageRequest("fox"))


async def test_a_rejected_key_is_misconfigured_and_the_text_contains_no_key(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    key = "sk-proj-Abc123Def456Ghi789"
    message = f"Incorrect API key provided: {key}. You can find your API key elsewhere."
    openai_standin.queue(GENERATIONS, status=401, json=error_body(401, message, "invalid_api_key"))

    with pytest.raises(Misconfigured) as caught:
        await images.generate(by_key("gpt-image-2"), ImageRequest("fox"))

    for text in (str(caught.value), caught.value.reason):
        assert key not in text
        assert "sk-proj" not in text
    assert len(openai_standin.requests) == 1  # a rejected key is never retried


async def test_the_standins_key_check_answers_401_to_a_wrong_key(
    images: OpenAIImages, openai_standin: OpenAIStandin
) -> None:
    openai_standin.api_key = "sk-the-right-key-000000"

    with pytest.raises(Misconfigured) as caught:
        await images.generate(by_key("gpt-image-2"), ImageRequest("fox"))

    assert "test-key" not in str(caught.value)
