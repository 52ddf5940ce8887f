"""XAIImages against the loopback xAI stand-in, through the real openai SDK over real HTTP."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import replace

import openai
import pytest

from providers.base import ImageRequest, ReferenceImage
from providers.errors import (
    ContentRefused,
    InvalidRequest,
    InvalidResponse,
    Misconfigured,
    ModelGone,
    ProviderTimeout,
    RateLimited,
    Unavailable,
)
from providers.registry import BUILT_IN, ModelSpec
from providers.xai_images import XAIImages
from tests.fakes.pictures import jpeg, png, webp
from tests.fakes.xai_api import (
    BLOCKED,
    EDITS,
    GENERATIONS,
    XAIStandin,
    error_body,
)

MAX_RETRIES = 2
GROK = next(spec for spec in BUILT_IN if spec.key == "grok-imagine")
PHOTOS = (
    ReferenceImage(png((16, 16), "red"), "image/png"),
    ReferenceImage(jpeg((16, 16), "blue"), "image/jpeg"),
    ReferenceImage(webp((16, 16), "green"), "image/webp"),
    ReferenceImage(png((16, 16), "yellow"), "image/png"),
)
FAST_RETRY = {"retry-after": "0.01"}  # keeps the SDK's backoff short in tests


def client_for(
    standin: XAIStandin, *, timeout: float = 5.0, retries: int = MAX_RETRIES
) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=standin.base_url, api_key="test-key", max_retries=retries, timeout=timeout
    )


@pytest.fixture
async def images(xai_standin: XAIStandin) -> AsyncIterator[XAIImages]:
    async with client_for(xai_standin) as client:
        yield XAIImages(client)


async def draw(images: XAIImages, references: int = 0, spec: ModelSpec = GROK) -> bytes:
    result = await images.generate(spec, ImageRequest("a fox", PHOTOS[:references]))
    assert result.model == spec
    return result.png


async def test_without_references_draws_a_square_png_through_generations(
    images: XAIImages, xai_standin: XAIStandin
) -> None:
    assert await draw(images) == xai_standin.picture
    assert xai_standin.requests_to(EDITS) == []
    [sent] = xai_standin.requests_to(GENERATIONS)
    assert sent.fields == {
        "model": "grok-imagine-image",
        "prompt": "a fox",
        "n": 1,
        "response_format": "b64_json",
        "aspect_ratio": "1:1",
    }


async def test_one_reference_goes_as_a_single_json_image_data_uri(
    images: XAIImages, xai_standin: XAIStandin
) -> None:
    assert await draw(images, references=1) == xai_standin.picture
    assert xai_standin.requests_to(GENERATIONS) == []
    [sent] = xai_standin.requests_to(EDITS)
    assert sent.content_type.startswith("application/json")
    assert sent.fields["image"] == {
        "type": "image_url",
        "url": f"data:image/png;base64,{base64.b64encode(PHOTOS[0].data).decode()}",
    }
    assert "images" not in sent.fields
    assert [image.data for image in sent.images] == [PHOTOS[0].data]
    assert sent.fields["response_format"] == "b64_json"
    assert "input_fidelity" not in sent.fields


async def test_three_references_go_as_images_and_a_fourth_is_not_sent(
    images: XAIImages, xai_standin: XAIStandin
) -> None:
    assert await draw(images, references=4) == xai_standin.picture
    [sent] = xai_standin.requests_to(EDITS)
    assert "image" not in sent.fields
    assert [(i.mime_type, i.data) for i in sent.images] == [
        (p.mime_type, p.data) for p in PHOTOS[:3]
    ]
    parts = sent.fields["images"]
    assert isinstance(parts, list)
    assert [part["type"] for part in parts] == ["image_url"] * 3
    assert sent.fields["aspect_ratio"] == "1:1"
    assert "input_fidelity" not in sent.fields


async def test_a_model_allowing_one_reference_sends_only_the_first(
    images: XAIImages, xai_standin: XAIStandin
) -> None:
    await draw(images, references=3, spec=replace(GROK, max_references=1))
    [sent] = xai_standin.requests_to(EDITS)
    assert [image.data for image in sent.images] == [PHOTOS[0].data]


async def test_a_jpeg_answer_is_re_encoded_to_png(
    images: XAIImages, xai_standin: XAIStandin
) -> None:
    xai_standin.picture = jpeg((32, 32))
    assert (await draw(images)).startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("route", [GENERATIONS, EDITS])
@pytest.mark.parametrize("blank_item", [False, True], ids=["empty-data", "item-without-picture"])
async def test_silent_moderation_is_a_refusal_and_not_retried(
    images: XAIImages, xai_standin: XAIStandin, route: str, blank_item: bool
) -> None:
    xai_standin.moderate(route, blank_item=blank_item)
    with pytest.raises(ContentRefused, match="moderation"):
        await draw(images, references=1 if route == EDITS else 0)
    assert len(xai_standin.requests_to(route)) == 1


async def test_a_rate_limit_is_retried_after_its_retry_after(
    images: XAIImages, xai_standin: XAIStandin
) -> None:
    xai_standin.queue(EDITS, status=429, headers={"retry-after": "0.3"})
    assert await draw(images, references=1) == xai_standin.picture
    first, second = xai_standin.requests_to(EDITS)
    assert second.at - first.at >= 0.3
    assert second.fields == first.fields


async def test_a_rate_limit_outlasting_the_retries_is_rate_limited(
    images: XAIImages, xai_standin: XAIStandin
) -> None:
    xai_standin.always(GENERATIONS, status=429, headers=FAST_RETRY)
    with pytest.raises(RateLimited) as caught:
        await draw(images)
    assert caught.value.retry_after == pytest.approx(0.01)
    assert len(xai_standin.requests_to(GENERATIONS)) == MAX_RETRIES + 1


@pytest.mark.parametrize("route", [GENERATIONS, EDITS])
async def test_5xx_forever_is_unavailable_after_bounded_attempts(
    images: XAIImages, xai_standin: XAIStandin, route: str
) -> None:
    xai_standin.always(route, status=503, headers=FAST_RETRY)
    with pytest.raises(Unavailable):
        await draw(images, references=2 if route == EDITS else 0)
    assert len(xai_standin.requests_to(route)) == MAX_RETRIES + 1


async def test_an_answer_slower_than_the_timeout_is_a_provider_timeout(
    xai_standin: XAIStandin,
) -> None:
    xai_standin.queue(GENERATIONS, delay=5.0)
    async with client_for(xai_standin, timeout=0.3, retries=0) as client:
        with pytest.raises(ProviderTimeout):
            await draw(XAIImages(client))


@pytest.mark.parametrize("fault", ["malformed", "not_an_image", "url_only"])
async def test_an_answer_without_a_usable_picture_is_an_invalid_response(
    images: XAIImages, xai_standin: XAIStandin, fault: str
) -> None:
    getattr(xai_standin, fault)(GENERATIONS)
    with pytest.raises(InvalidResponse):
        await draw(images)
    assert len(xai_standin.requests_to(GENERATIONS)) == 1


async def test_a_rejected_request_is_invalid_with_xais_message(
    images: XAIImages, xai_standin: XAIStandin
) -> None:
    xai_standin.queue(EDITS, status=400, json=error_body("Image too small"))
    with pytest.raises(InvalidRequest, match="Image too small"):
        await draw(images, references=1)


@pytest.mark.parametrize("route", [GENERATIONS, EDITS])
@pytest.mark.parametrize(
    "message",
    [BLOCKED, "The prompt was blocked by our content policy", "Input image failed moderation"],
)
async def test_a_400_that_says_moderation_blocked_it_is_a_refusal_with_the_reason(
    images: XAIImages, xai_standin: XAIStandin, route: str, message: str
) -> None:
    xai_standin.block(route, message)
    with pytest.raises(ContentRefused) as caught:
        await draw(images, references=1 if route == EDITS else 0)
    assert caught.value.reason == message
    assert len(xai_standin.requests_to(route)) == 1, "a refusal is never retried"


async def test_a_wrong_key_is_misconfigured_and_never_echoed() -> None:
    async with (
        XAIStandin(api_key="xai-right-key-123456") as standin,
        client_for(standin) as client,
    ):
        with pytest.raises(Misconfigured) as caught:
            await draw(XAIImages(client))
    assert "test-key" not in str(caught.value)
    assert len(standin.requests_to(GENERATIONS)) == 1


@pytest.mark.parametrize("references", [0, 2])
async def test_the_cost_xai_reports_in_ticks_comes_back_in_usd(
    images: XAIImages, xai_standin: XAIStandin, references: int
) -> None:
    xai_standin.image_ticks = 312_500_000
    result = await images.generate(GROK, ImageRequest("a fox", PHOTOS[:references]))
    assert result.cost_usd == pytest.approx(0.03125)


async def test_an_answer_without_usage_reports_no_cost(
    images: XAIImages, xai_standin: XAIStandin
) -> None:
    xai_standin.image_ticks = None
    result = await images.generate(GROK, ImageRequest("a fox"))
    assert result.cost_usd is None


@pytest.mark.parametrize("references", [0, 1])
async def test_a_404_for_the_model_is_model_gone_and_not_retried(
    images: XAIImages, xai_standin: XAIStandin, references: int
) -> None:
    del xai_standin.image_models["grok-imagine-image"]

    with pytest.raises(ModelGone) as caught:
        await images.generate(GROK, ImageRequest("a fox", PHOTOS[:references]))

    assert (caught.value.model_key, caught.value.provider) == ("grok-imagine", "xAI")
    assert len(xai_standin.requests) == 1
