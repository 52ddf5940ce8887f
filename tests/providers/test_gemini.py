"""GeminiImages through the real google-genai SDK, on its default aiohttp path, to the stand-in."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from functools import partial
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from providers.base import ImageRequest, ReferenceImage
from providers.errors import (
    ContentRefused,
    InvalidRequest,
    InvalidResponse,
    Misconfigured,
    ModelGone,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    Unavailable,
)
from providers.gemini import SAFETY_REASONS, GeminiImages, gemini_client
from providers.registry import BUILT_IN, ModelSpec, Provider
from tests.fakes.gemini_api import SHUT_DOWN, GeminiStandin, answer, inline
from tests.fakes.pictures import jpeg, png, webp

KEY = "AIzaSyTestKey-0123456789abcdefghijklmn"
ATTEMPTS = 3
GEMINI = next(spec for spec in BUILT_IN if spec.provider is Provider.GEMINI)
PROMPT = "A fox in a lighthouse keeper's coat watches the whale sing."
REFERENCES = (
    ReferenceImage(png((16, 16), "red"), "image/png"),
    ReferenceImage(jpeg((16, 16), "blue"), "image/jpeg"),
    ReferenceImage(webp((16, 16), "green"), "image/webp"),
    ReferenceImage(png((16, 16), "yellow"), "image/png"),
)

MakeClient = Callable[..., genai.Client]


@pytest.fixture
async def make_client(gemini_standin: GeminiStandin) -> AsyncIterator[MakeClient]:
    """Clients built by the production factory, pointed at the stand-in, with fast retries."""
    made: list[genai.Client] = []

    def make(*, key: str = KEY, timeout: float = 5.0, base_url: str | None = None) -> genai.Client:
        url = base_url or gemini_standin.base_url
        client = gemini_client(key, url, timeout, ATTEMPTS, initial_delay=0.01)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aio.aclose()


@pytest.fixture
def images(make_client: MakeClient) -> GeminiImages:
    return GeminiImages(make_client())


async def refused(images: GeminiImages, spec: ModelSpec = GEMINI) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await images.generate(spec, ImageRequest(PROMPT))
    return caught.value


# -- pictures ---------------------------------------------------------------------------------


async def test_a_prompt_alone_comes_back_as_the_png_the_model_drew(
    images: GeminiImages, gemini_standin: GeminiStandin
) -> None:
    result = await images.generate(GEMINI, ImageRequest(PROMPT))

    assert (result.png, result.model) == (gemini_standin.picture, GEMINI)
    [sent] = gemini_standin.requests
    assert (sent.version, sent.model, sent.api_key_present) == ("v1beta", GEMINI.api_model, True)
    assert (sent.images, sent.texts) == ((), (PROMPT,))
    assert sent.generation_config == {
        "responseModalities": ["TEXT", "IMAGE"],
        "imageConfig": {"aspectRatio": "1:1"},
    }


@pytest.mark.parametrize("count", [1, 3])
async def test_reference_photos_go_as_image_parts_with_their_bytes_before_the_prompt(
    images: GeminiImages, gemini_standin: GeminiStandin, count: int
) -> None:
    result = await images.generate(GEMINI, ImageRequest(PROMPT, REFERENCES[:count]))

    assert result.png == gemini_standin.picture
    [sent] = gemini_standin.requests
    assert sent.kinds == ("image",) * count + ("text",)
    assert [(part.mime_type, part.data) for part in sent.images] == [
        (ref.mime_type, ref.data) for ref in REFERENCES[:count]
    ]
    assert sent.texts == (PROMPT,)


async def test_photos_beyond_the_models_limit_are_not_sent_and_the_first_ones_are_kept(
    images: GeminiImages, gemini_standin: GeminiStandin
) -> None:
    three = replace(GEMINI, max_references=3)
    await images.generate(three, ImageRequest(PROMPT, REFERENCES))

    [sent] = gemini_standin.requests
    assert [part.data for part in sent.images] == [ref.data for ref in REFERENCES[:3]]


async def test_a_catalog_entry_without_reference_support_sends_the_prompt_only(
    images: GeminiImages, gemini_standin: GeminiStandin
) -> None:
    await images.generate(replace(GEMINI, max_references=0), ImageRequest(PROMPT, REFERENCES))

    assert gemini_standin.requests[0].kinds == ("text",)


async def test_a_jpeg_answer_is_re_encoded_to_png(
    images: GeminiImages, gemini_standin: GeminiStandin
) -> None:
    gemini_standin.queue(json=answer([inline(jpeg((32, 32)), "image/jpeg")]))

    result = await images.generate(GEMINI, ImageRequest(PROMPT))

    assert result.png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_a_thinking_models_draft_image_is_skipped_for_the_final_one(
    images: GeminiImages, gemini_standin: GeminiStandin
) -> None:
    gemini_standin.thinking()

    result = await images.generate(GEMINI, ImageRequest(PROMPT))

    assert result.png == gemini_standin.picture


# -- refusals ---------------------------------------------------------------------------------

Script = Callable[[GeminiStandin], None]
DECLINED = "I can't create images of real people."
REFUSALS = [
    *(
        pytest.param(partial(GeminiStandin.block_prompt, reason=r), r, id=f"prompt-{r}")
        for r in ("SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "OTHER")
    ),
    *(
        pytest.param(partial(GeminiStandin.finish, reason=r), r, id=f"finish-{r}")
        for r in [*sorted(SAFETY_REASONS), "NO_IMAGE", "STOP", "IMAGE_OTHER", "MAX_TOKENS"]
    ),
    pytest.param(partial(GeminiStandin.text_only, text=DECLINED), DECLINED, id="text-only"),
    pytest.param(
        lambda standin: standin.queue(json=answer([inline(png())], "IMAGE_SAFETY")),
        "IMAGE_SAFETY",
        id="safety-wins-over-an-image",
    ),
]


@pytest.mark.parametrize(("script", "reason"), REFUSALS)
async def test_every_answer_without_a_picture_is_a_refusal_naming_why_and_never_retried(
    images: GeminiImages, gemini_standin: GeminiStandin, script: Script, reason: str
) -> None:
    script(gemini_standin)

    error = await refused(images)

    assert isinstance(error, ContentRefused)
    assert reason in error.reason
    assert len(gemini_standin.requests) == 1


def canned(response: types.GenerateContentResponse) -> GeminiImages:
    """An adapter whose client answers with one prepared SDK response."""

    async def generate_content(**_: object) -> types.GenerateContentResponse:
        return response

    models = SimpleNamespace(generate_content=generate_content)
    client: Any = SimpleNamespace(aio=SimpleNamespace(models=models))
    return GeminiImages(client)


async def test_googles_own_refusal_words_are_passed_on_when_the_sdk_gives_them() -> None:
    # google-genai 3.6.1 drops finishMessage and blockReasonMessage of the Gemini API on
    # parsing (its mldev converter has no such field), so they can only arrive this way.
    message = "Unable to show the generated image: it may violate our policies."
    candidate = types.Candidate(
        finish_reason=types.FinishReason.IMAGE_SAFETY, finish_message=message
    )
    feedback = types.GenerateContentResponsePromptFeedback(
        block_reason=types.BlockedReason.SAFETY, block_reason_message="Blocked: violence."
    )

    output = await refused(canned(types.GenerateContentResponse(candidates=[candidate])))
    prompt = await refused(canned(types.GenerateContentResponse(prompt_feedback=feedback)))

    assert (type(output), output.reason) == (ContentRefused, message)
    assert (type(prompt), prompt.reason) == (ContentRefused, "Blocked: violence.")


# -- rate limits and outages ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "sent"),
    [
        pytest.param(partial(GeminiStandin.rate_limit, times=1), 2, id="429"),
        pytest.param(partial(GeminiStandin.server_error, status=503, times=2), 3, id="503-twice"),
    ],
)
async def test_a_passing_429_or_5xx_is_retried_and_the_next_answer_is_drawn(
    images: GeminiImages, gemini_standin: GeminiStandin, script: Script, sent: int
) -> None:
    script(gemini_standin)

    result = await images.generate(GEMINI, ImageRequest(PROMPT))

    assert result.png == gemini_standin.picture
    assert len(gemini_standin.requests) == sent


LASTING = [
    pytest.param(partial(GeminiStandin.rate_limit, retry_delay="7s", times=None), id="429"),
    *(
        pytest.param(partial(GeminiStandin.server_error, status=status, times=None), id=f"{status}")
        for status in (500, 502, 503, 504)
    ),
]


@pytest.mark.parametrize("script", LASTING)
async def test_a_lasting_429_or_5xx_gives_up_after_the_bounded_attempts(
    images: GeminiImages, gemini_standin: GeminiStandin, script: Script
) -> None:
    script(gemini_standin)

    error = await refused(images)

    assert len(gemini_standin.requests) == ATTEMPTS
    if isinstance(error, RateLimited):
        assert error.retry_after == 7.0  # from Google's google.rpc.RetryInfo
        assert isinstance(error.__cause__, genai_errors.ClientError)
    else:
        assert isinstance(error, Unavailable)
        assert isinstance(error.__cause__, genai_errors.ServerError)


async def test_an_answer_slower_than_the_timeout_is_a_provider_timeout(
    make_client: MakeClient, gemini_standin: GeminiStandin
) -> None:
    gemini_standin.delay(30, times=None)
    images = GeminiImages(make_client(timeout=0.3))
    started = time.monotonic()

    error = await refused(images)

    assert isinstance(error, ProviderTimeout)
    assert isinstance(error.__cause__, TimeoutError)
    assert time.monotonic() - started < 0.3 * ATTEMPTS + 2


async def test_an_unreachable_service_is_unavailable(make_client: MakeClient) -> None:
    with socket.socket() as sock:  # a port nobody listens on once this socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    images = GeminiImages(make_client(base_url=f"http://127.0.0.1:{port}"))

    error = await refused(images)

    assert isinstance(error, Unavailable)
    assert isinstance(error.__cause__, aiohttp.ClientError)


# -- broken answers ---------------------------------------------------------------------------


def shaped(candidate: object) -> Script:
    return lambda standin: standin.queue(json={"candidates": [candidate]})


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(GeminiStandin.malformed, id="cut-off-json"),
        pytest.param(GeminiStandin.not_an_image, id="image-part-not-a-picture"),
        pytest.param(lambda standin: standin.queue(json={"candidates": []}), id="no-candidate"),
        pytest.param(shaped({"content": {"parts": "not a list"}}), id="parts-not-a-list"),
        pytest.param(shaped({"content": {"parts": [5]}}), id="part-not-an-object"),
        pytest.param(shaped({"finishReason": 7}), id="finish-reason-a-number"),
    ],
)
async def test_an_answer_that_is_not_the_apis_is_an_invalid_response(
    images: GeminiImages, gemini_standin: GeminiStandin, script: Script
) -> None:
    script(gemini_standin)

    assert isinstance(await refused(images), InvalidResponse)


# -- configuration ----------------------------------------------------------------------------


def wrong_key(standin: GeminiStandin) -> None:
    standin.api_key = "AIzaSyTheRightKey-000000000000000000000"  # Google: 400 API_KEY_INVALID


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(wrong_key, id="400-API_KEY_INVALID"),
        pytest.param(partial(GeminiStandin.error, status=401, message=f"Key {KEY} bad"), id="401"),
        pytest.param(partial(GeminiStandin.error, status=403, message=f"{KEY} leaked"), id="403"),
    ],
)
async def test_a_rejected_key_is_misconfigured_never_retried_and_never_echoed(
    images: GeminiImages, gemini_standin: GeminiStandin, script: Script
) -> None:
    script(gemini_standin)

    error = await refused(images)

    assert isinstance(error, Misconfigured)
    assert KEY[:12] not in str(error)
    assert len(gemini_standin.requests) == 1


async def test_an_unknown_model_is_model_gone_naming_the_catalog_entry(
    images: GeminiImages, gemini_standin: GeminiStandin
) -> None:
    ghost = replace(GEMINI, key="ghost", display="Ghost", api_model="gemini-0.1-ghost-image")

    error = await refused(images, ghost)

    assert isinstance(error, ModelGone)
    assert (error.model_key, error.model_display, error.provider) == ("ghost", "Ghost", "Google")
    assert "gemini-0.1-ghost-image" in error.reason
    assert len(gemini_standin.requests) == 1, "a 404 is not retried"


@pytest.mark.parametrize("shut_down", SHUT_DOWN)
async def test_google_answers_404_for_its_shut_down_image_models(
    images: GeminiImages, shut_down: str
) -> None:
    error = await refused(images, replace(GEMINI, api_model=shut_down))

    assert isinstance(error, ModelGone)


@pytest.mark.parametrize("spec", [s for s in BUILT_IN if s.provider is Provider.GEMINI])
async def test_the_catalogs_gemini_models_are_the_ga_ids_google_serves(
    images: GeminiImages, spec: ModelSpec
) -> None:
    result = await images.generate(spec, ImageRequest(PROMPT))
    assert result.png.startswith(b"\x89PNG")


async def test_another_4xx_is_an_invalid_request_and_not_retried(
    images: GeminiImages, gemini_standin: GeminiStandin
) -> None:
    gemini_standin.error(400, "Request contains an invalid argument.")

    error = await refused(images)

    assert isinstance(error, InvalidRequest)
    assert "invalid argument" in error.reason
    assert len(gemini_standin.requests) == 1


async def test_the_factory_sets_a_millisecond_timeout_and_bounded_retries() -> None:
    client = gemini_client(KEY, None, 42.5, 4)
    options: Any = client._api_client._http_options  # no public accessor
    await client.aio.aclose()

    assert options.timeout == 42_500
    assert options.retry_options.attempts == 4
    assert options.retry_options.http_status_codes == [408, 429, 500, 502, 503, 504]


async def test_the_factory_client_talks_over_aiohttp_the_sdks_default_async_transport(
    images: GeminiImages, gemini_standin: GeminiStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls: list[str] = []
    original = aiohttp.ClientSession.request

    def spy(self: aiohttp.ClientSession, method: str, url: Any, **kwargs: Any) -> Any:
        urls.append(str(url))
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "request", spy)
    assert images._client._api_client._use_aiohttp()
    await images.generate(GEMINI, ImageRequest(PROMPT))

    assert urls == [f"{gemini_standin.base_url}/v1beta/models/{GEMINI.api_model}:generateContent"]


async def test_the_standins_latency_delays_every_answer(
    images: GeminiImages, gemini_standin: GeminiStandin
) -> None:
    gemini_standin.latency = 0.2
    started = time.monotonic()

    await images.generate(GEMINI, ImageRequest(PROMPT))

    assert time.monotonic() - started >= 0.2
