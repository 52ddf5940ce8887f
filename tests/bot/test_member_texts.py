"""The sentences members read: one full stop, plurals that agree, no raw provider or HTTP text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import failure_of, provider_text, quota_text, video_failure_text
from bot.render import scene_embed, settings_embed
from bot.scene_card import SceneCard, VideoBadge
from bot.tiers import Tier
from providers.errors import (
    ContentRefused,
    InvalidRequest,
    InvalidResponse,
    Misconfigured,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    TooLarge,
    Unavailable,
)
from providers.models_file import load_catalog
from storage import GuildSettings, JobFailure, QuotaExceeded

RESETS = datetime(2026, 11, 30, tzinfo=UTC)


def test_a_refusal_gives_the_providers_reason_once_stopped_and_asks_no_rephrasing() -> None:
    text = provider_text(ContentRefused("xAI", "Blocked by content moderation. "))
    assert text == "The provider declined this prompt. xAI said: Blocked by content moderation."
    assert "rephras" not in text


@pytest.mark.parametrize(
    "error",
    [
        InvalidRequest("OpenAI", "Invalid value for 'size': '9x9' (HTTP 400)"),
        InvalidResponse("Gemini", "unexpected HTTP status 302"),
    ],
)
def test_raw_provider_and_http_text_never_reaches_a_member(error: ProviderError) -> None:
    text = provider_text(error)
    assert "HTTP" not in text
    assert error.reason not in text
    assert text.startswith(error.provider)
    assert text.endswith(".")
    assert ".." not in text


@pytest.mark.parametrize(
    ("scope", "kind", "limit", "expected"),
    [
        ("member", "scene", 1, "You have used the 1 scene allowed today; the quota resets"),
        ("guild", "video", 20, "This server has used all 20 videos allowed today; the quota"),
        ("guild", "video", 0, "This server's tier allows no videos."),
    ],
)
def test_quota_text_is_one_sentence_whose_plural_agrees(
    scope: str, kind: str, limit: int, expected: str
) -> None:
    text = quota_text(QuotaExceeded(scope, kind, limit, RESETS))
    assert text.startswith(expected)
    assert text.count(". ") == 0, "one sentence"
    assert text.endswith(".")


def test_a_failed_videos_reason_ends_in_one_full_stop() -> None:
    card = SceneCard(1, "Title", 1, "Text", "GPT Image 2", None, b"", VideoBadge.FAILED,
                     "xAI is busy right now; try again in a minute.")  # fmt: skip
    (field,) = scene_embed(card).fields
    assert field.value == "❌ No video: xAI is busy right now; try again in a minute."


def test_settings_say_one_reference_photo_not_one_photos() -> None:
    tier = Tier("solo", None, True, 1, 1, 1, 1)
    embed = settings_embed(GuildSettings(1), tier, load_catalog(None))
    quotas = {f.name: f.value for f in embed.fields}["Quotas per day"]
    assert quotas == "1 scene (1 per member), 1 video, 1 reference photo per story"


@pytest.mark.parametrize(
    "error",
    [
        ContentRefused("xAI", "Rejected by content moderation"),
        RateLimited("xAI", "slow down"),
        Unavailable("xAI", "503"),
        ProviderTimeout("xAI", "read timeout"),
        Misconfigured("xAI", "bad key"),
        TooLarge("xAI", "over the cap"),
        InvalidResponse("xAI", "not JSON"),
        InvalidRequest("xAI", "bad duration"),
    ],
)
def test_a_video_job_failed_by_a_provider_error_reads_as_that_error_would(
    error: ProviderError,
) -> None:
    assert video_failure_text(failure_of(error), error.reason) == provider_text(error)


@pytest.mark.parametrize(
    ("failure", "words", "text"),
    [
        (JobFailure.EXPIRED, None, "the video expired"),
        (JobFailure.EXPIRED, "the job expired at xAI", "the job expired at xAI"),
        (JobFailure.VIDEO_FAILED, None, "the video failed"),
        (JobFailure.VIDEO_FAILED, "the GPU caught fire", "the GPU caught fire"),
        (JobFailure.INTERRUPTED, None, "a restart interrupted it; press Animate to try again"),
    ],
)
def test_a_failed_video_says_the_providers_words_or_what_happened(
    failure: JobFailure, words: str | None, text: str
) -> None:
    assert video_failure_text(failure, words) == text


def test_every_failure_code_has_words_for_members() -> None:
    for failure in JobFailure:
        text = video_failure_text(failure, "its reason")
        assert text
        assert text != failure.value
        assert "_" not in text, "a code never reaches a member"
