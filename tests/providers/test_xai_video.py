"""XAIVideo against the loopback xAI stand-in: the real openai SDK and httpx over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import openai
import pytest

from providers.base import ReferenceImage, VideoRequest, VideoState, VideoStatus
from providers.download import check_url
from providers.errors import (
    ContentRefused,
    InvalidRequest,
    InvalidResponse,
    ProviderTimeout,
    TooLarge,
    Unavailable,
)
from providers.retry import RetryPolicy
from providers.xai_video import XAIVideo
from tests.fakes.pictures import png
from tests.fakes.xai_api import (
    FILES,
    PENDING_FORMS,
    POLL,
    VIDEOS,
    PendingForm,
    VideoOutcome,
    XAIStandin,
)

MAX_RETRIES = 2
ATTEMPTS = 3
SCENE = ReferenceImage(png((32, 32), "orange"), "image/png")
CAP = 1_000_000


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:
        yield client


@pytest.fixture
async def client(xai_standin: XAIStandin) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=xai_standin.base_url, api_key="test-key", max_retries=MAX_RETRIES, timeout=5.0
    ) as client:
        yield client


def make_video(
    client: openai.AsyncOpenAI, http: httpx.AsyncClient, sleeps: list[float], *, private: bool
) -> XAIVideo:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    policy = RetryPolicy(attempts=ATTEMPTS, sleep=sleep)
    return XAIVideo(client, http, allow_private_downloads=private, retry=policy)


@pytest.fixture
def video(client: openai.AsyncOpenAI, http: httpx.AsyncClient, sleeps: list[float]) -> XAIVideo:
    return make_video(client, http, sleeps, private=True)


async def finish(video: XAIVideo, standin: XAIStandin, *outcomes: VideoOutcome) -> VideoStatus:
    """Submit one job and poll it until it leaves `pending`."""
    standin.script(*outcomes)
    request_id = await video.submit(VideoRequest("the fox waves", SCENE))
    for _ in range(standin.polls_until_done):
        assert await video.poll(request_id) == VideoStatus(VideoState.PENDING)
    return await video.poll(request_id)


async def test_submit_sends_the_scene_as_a_data_uri_square_720p_for_8_seconds(
    video: XAIVideo, xai_standin: XAIStandin
) -> None:
    request_id = await video.submit(VideoRequest("the fox waves", SCENE))

    assert request_id in xai_standin.jobs
    [sent] = xai_standin.requests_to(VIDEOS)
    assert sent.fields["model"] == "grok-imagine-video"
    assert sent.fields["prompt"] == "the fox waves"
    assert (sent.fields["aspect_ratio"], sent.fields["resolution"]) == ("1:1", "720p")
    assert sent.fields["duration"] == 8
    assert [(image.mime_type, image.data) for image in sent.images] == [("image/png", SCENE.data)]


@pytest.mark.parametrize(("asked", "sent"), [(1, 5), (5, 5), (7, 7), (10, 10), (15, 10)])
async def test_the_duration_is_clamped_to_5_to_10_seconds(
    video: XAIVideo, xai_standin: XAIStandin, asked: int, sent: int
) -> None:
    await video.submit(VideoRequest("waves", SCENE, duration_seconds=asked))
    assert xai_standin.requests_to(VIDEOS)[0].fields["duration"] == sent


async def test_a_job_goes_pending_then_done_and_the_mp4_lands_on_disk(
    video: XAIVideo, xai_standin: XAIStandin, tmp_path: Path
) -> None:
    xai_standin.polls_until_done = 3
    status = await finish(video, xai_standin, VideoOutcome(size=200_000))
    assert status.state is VideoState.DONE
    assert status.url is not None
    [request_id] = xai_standin.jobs

    size = await video.download(status.url, tmp_path / "scene.mp4.part", CAP)

    assert (tmp_path / "scene.mp4.part").read_bytes() == xai_standin.video_bytes(request_id)
    assert size == 200_000
    assert len(xai_standin.requests_to(POLL)) == 4
    assert status.cost_usd == pytest.approx(8 * 0.07), "xAI's usage.cost_in_usd_ticks, in USD"


@pytest.mark.parametrize("form", PENDING_FORMS)
async def test_a_job_still_rendering_is_pending_in_every_form_xai_answers(
    video: XAIVideo, xai_standin: XAIStandin, form: PendingForm
) -> None:
    """202 with or without a JSON body (xAI's spec and SDK), and 200 `pending` (SPEC §8)."""
    xai_standin.pending_form = form
    xai_standin.polls_until_done = 2
    assert (await finish(video, xai_standin)).state is VideoState.DONE
    assert len(xai_standin.requests_to(POLL)) == 3


async def test_a_failed_job_reports_xais_message(video: XAIVideo, xai_standin: XAIStandin) -> None:
    status = await finish(video, xai_standin, VideoOutcome.failed("GPU melted"))
    assert status == VideoStatus(VideoState.FAILED, reason="GPU melted")


async def test_an_expired_job_is_expired(video: XAIVideo, xai_standin: XAIStandin) -> None:
    status = await finish(video, xai_standin, VideoOutcome("expired"))
    assert status.state is VideoState.EXPIRED
    assert status.url is None


async def test_a_request_id_xai_does_not_know_is_expired(video: XAIVideo) -> None:
    status = await video.poll("no-such-job")
    assert status.state is VideoState.EXPIRED


async def test_done_without_a_url_is_a_moderation_refusal(
    video: XAIVideo, xai_standin: XAIStandin
) -> None:
    with pytest.raises(ContentRefused, match="moderation"):
        await finish(video, xai_standin, VideoOutcome("moderated"))


async def test_a_video_with_respect_moderation_false_is_refused_even_with_a_url(
    video: XAIVideo, xai_standin: XAIStandin
) -> None:
    request_id = await video.submit(VideoRequest("waves", SCENE))
    video_part = {"url": "https://vidgen.x.ai/a.mp4", "respect_moderation": False}
    xai_standin.queue(POLL, json={"status": "done", "video": video_part})
    with pytest.raises(ContentRefused):
        await video.poll(request_id)


async def test_an_unknown_job_status_is_an_invalid_response(
    video: XAIVideo, xai_standin: XAIStandin
) -> None:
    request_id = await video.submit(VideoRequest("waves", SCENE))
    xai_standin.queue(POLL, json={"status": "teleported"})
    with pytest.raises(InvalidResponse, match="teleported"):
        await video.poll(request_id)


async def test_a_submit_blocked_by_moderation_is_a_refusal_with_the_reason(
    video: XAIVideo, xai_standin: XAIStandin
) -> None:
    xai_standin.block(VIDEOS, "Input image rejected by content moderation")
    with pytest.raises(ContentRefused, match="Input image rejected by content moderation"):
        await video.submit(VideoRequest("waves", SCENE))


async def test_a_submit_answer_without_a_request_id_is_invalid(
    video: XAIVideo, xai_standin: XAIStandin
) -> None:
    xai_standin.queue(VIDEOS, json={"status": "accepted"})
    with pytest.raises(InvalidResponse):
        await video.submit(VideoRequest("waves", SCENE))


async def test_a_malformed_poll_answer_is_invalid(video: XAIVideo, xai_standin: XAIStandin) -> None:
    xai_standin.malformed(POLL)
    with pytest.raises(InvalidResponse):
        await finish(video, xai_standin)


async def test_submit_is_sent_once_even_on_5xx_so_no_job_is_paid_twice(
    video: XAIVideo, xai_standin: XAIStandin
) -> None:
    xai_standin.always(VIDEOS, status=503, headers={"retry-after": "0.01"})
    with pytest.raises(Unavailable):
        await video.submit(VideoRequest("waves", SCENE))
    assert len(xai_standin.requests_to(VIDEOS)) == 1
    assert xai_standin.jobs == {}


# -- downloads ---------------------------------------------------------------------------


def leftovers(folder: Path) -> list[str]:
    """What a download left in `folder` (a tiny tmp_path listing; blocking is fine here)."""
    return sorted(path.name for path in folder.iterdir())


async def done_url(video: XAIVideo, standin: XAIStandin, outcome: VideoOutcome) -> str:
    status = await finish(video, standin, outcome)
    assert status.url is not None
    return status.url


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
async def test_an_oversize_file_is_too_large_and_leaves_no_partial_file(
    video: XAIVideo, xai_standin: XAIStandin, tmp_path: Path, declare_length: bool
) -> None:
    outcome = VideoOutcome.oversize(CAP + 300_000, declare_length=declare_length)
    url = await done_url(video, xai_standin, outcome)
    with pytest.raises(TooLarge):
        await video.download(url, tmp_path / "scene.mp4.part", CAP)
    assert leftovers(tmp_path) == []
    assert len(xai_standin.requests_to(FILES)) == 1


async def test_a_file_that_is_gone_is_an_invalid_response_without_retries(
    video: XAIVideo, xai_standin: XAIStandin, tmp_path: Path, sleeps: list[float]
) -> None:
    url = await done_url(video, xai_standin, VideoOutcome("missing_file"))
    with pytest.raises(InvalidResponse, match="404"):
        await video.download(url, tmp_path / "scene.mp4.part", CAP)
    assert (len(xai_standin.requests_to(FILES)), sleeps) == (1, [])
    assert leftovers(tmp_path) == []


async def test_a_503_on_download_is_retried_and_then_succeeds(
    video: XAIVideo, xai_standin: XAIStandin, tmp_path: Path, sleeps: list[float]
) -> None:
    url = await done_url(video, xai_standin, VideoOutcome())
    xai_standin.queue(FILES, status=503)
    size = await video.download(url, tmp_path / "scene.mp4.part", CAP)
    assert size == len((tmp_path / "scene.mp4.part").read_bytes()) == 4096
    assert len(xai_standin.requests_to(FILES)) == 2
    assert len(sleeps) == 1


async def test_a_429_on_download_waits_exactly_its_retry_after(
    video: XAIVideo, xai_standin: XAIStandin, tmp_path: Path, sleeps: list[float]
) -> None:
    url = await done_url(video, xai_standin, VideoOutcome())
    xai_standin.queue(FILES, status=429, headers={"retry-after": "7"})
    await video.download(url, tmp_path / "scene.mp4.part", CAP)
    assert sleeps == [7.0]


async def test_download_5xx_forever_is_unavailable_after_bounded_attempts(
    video: XAIVideo, xai_standin: XAIStandin, tmp_path: Path, sleeps: list[float]
) -> None:
    url = await done_url(video, xai_standin, VideoOutcome())
    xai_standin.always(FILES, status=502)
    with pytest.raises(Unavailable):
        await video.download(url, tmp_path / "scene.mp4.part", CAP)
    assert len(xai_standin.requests_to(FILES)) == ATTEMPTS
    assert len(sleeps) == ATTEMPTS - 1
    assert leftovers(tmp_path) == []


async def test_a_download_400_is_never_retried(
    video: XAIVideo, xai_standin: XAIStandin, tmp_path: Path, sleeps: list[float]
) -> None:
    url = await done_url(video, xai_standin, VideoOutcome())
    xai_standin.always(FILES, status=400)
    with pytest.raises(InvalidResponse, match="400"):
        await video.download(url, tmp_path / "scene.mp4.part", CAP)
    assert (len(xai_standin.requests_to(FILES)), sleeps) == (1, [])


async def test_a_download_slower_than_the_timeout_is_a_provider_timeout(
    client: openai.AsyncOpenAI, xai_standin: XAIStandin, tmp_path: Path, sleeps: list[float]
) -> None:
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.2)) as impatient:
        video = make_video(client, impatient, sleeps, private=True)
        url = await done_url(video, xai_standin, VideoOutcome())
        xai_standin.always(FILES, delay=5.0)
        with pytest.raises(ProviderTimeout):
            await video.download(url, tmp_path / "scene.mp4.part", CAP)
    assert len(xai_standin.requests_to(FILES)) == ATTEMPTS


async def test_a_redirect_is_followed_to_the_file(
    video: XAIVideo, xai_standin: XAIStandin, tmp_path: Path
) -> None:
    url = await done_url(video, xai_standin, VideoOutcome("redirect"))
    assert "/redirect/" in url
    assert await video.download(url, tmp_path / "scene.mp4.part", CAP) == 4096


# -- download safety -----------------------------------------------------------------------


async def test_the_standins_loopback_url_is_refused_unless_private_downloads_are_allowed(
    client: openai.AsyncOpenAI,
    http: httpx.AsyncClient,
    xai_standin: XAIStandin,
    tmp_path: Path,
    sleeps: list[float],
) -> None:
    guarded = make_video(client, http, sleeps, private=False)
    url = await done_url(guarded, xai_standin, VideoOutcome())
    with pytest.raises(InvalidRequest):
        await guarded.download(url, tmp_path / "scene.mp4.part", CAP)
    assert xai_standin.requests_to(FILES) == []
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/v.mp4",
        "https://localhost/v.mp4",
        "https://10.1.2.3/v.mp4",
        "https://192.168.0.10:8443/v.mp4",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/v.mp4",
        "https://[::ffff:127.0.0.1]/v.mp4",
        "https://0.0.0.0/v.mp4",
    ],
)
async def test_private_and_loopback_addresses_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequest, match="private or local"):
        await check_url(url, "xAI")


@pytest.mark.parametrize(
    "url",
    [
        "http://vidgen.x.ai/v.mp4",
        "ftp://vidgen.x.ai/v.mp4",
        "file:///etc/passwd",
        "https://",
        "https://8.8.8.8:99999/v.mp4",
        "https://[::1/v.mp4",
    ],
)
async def test_anything_but_an_https_url_is_refused(url: str) -> None:
    with pytest.raises(InvalidRequest, match="https"):
        await check_url(url, "xAI")


async def test_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="credentials"):
        await check_url("https://user:pw@8.8.8.8/v.mp4", "xAI")


async def test_an_https_url_to_a_public_address_passes() -> None:
    await check_url("https://8.8.8.8/v.mp4", "xAI")
