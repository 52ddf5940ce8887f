"""Every failure → the text a member sees; the one place (SPEC §10)."""

from __future__ import annotations

import logging
import secrets

from bot.book.page import PageTooLarge
from bot.book.problems import EmptyStory, NoStoryHere, UnknownStory
from providers.errors import (
    ContentRefused,
    InvalidResponse,
    Misconfigured,
    ModelGone,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    TooLarge,
    Unavailable,
)
from providers.registry import VIDEO_MODEL
from storage import JobFailure, QuotaExceeded

log = logging.getLogger(__name__)


IN_SERVERS = (
    "StoryBot tells stories in servers, not in direct messages: use `/story start` in a channel "
    "of a server StoryBot is in."
)
NOT_OUR_BUTTON = (
    "This button is not one StoryBot knows (it may come from an older version). Use "
    "`/story continue` for the next scene of your story, or `/story start` for a new one."
)


RESTARTING = "StoryBot is restarting: try again in a minute."
RESTARTED = "The bot restarted before this was finished, try again. Nothing was counted."


def unknown_command_text(name: str) -> str:
    """A command this version never registered: what a stale client still offers."""
    return (
        f"`/{name}` is not a command of this StoryBot (your Discord app may show an old list; "
        "restarting it refreshes the list). Use `/story start` for a new story, "
        "`/story continue` for the next scene, or `/models` and `/usage`."
    )


def attachment_gone_text(name: str) -> str:
    """A reference photo Discord no longer serves (404 on the CDN, or another refusal)."""
    return f"Discord no longer serves `{name}`; it may have been deleted. Attach it again."


# -- refusals: what a member is told when a request is turned down before any provider call --

NO_VIDEO_ON_TIER = "Video is not available on this server's tier."
NO_STORY_HERE = "You have no story in this channel yet: start one with `/story start`."
ALREADY_REDRAWING = "This picture is already being redrawn; the new one appears here soon."
PICTURE_NOT_READY = "This scene's picture is not ready yet."
ALREADY_ANIMATING = "This scene is already being animated; the video will appear here."
ALREADY_ANIMATED = "This scene is already animated."
SCENE_GONE = "This scene no longer exists."
PICTURE_GONE = "This scene's picture is no longer stored."
OTHER_SERVERS_SCENE = "This scene belongs to another server."
NO_MODEL_HERE = "No image model is available on this server right now."
NEEDS_MANAGER = "Only members with the Manage Server permission can change this."
NEEDS_OPERATOR = "Only the bot's operators can change a server's tier."
EMPTY_PREMISE = "The premise is empty: tell me what the story is about."
NOT_YOURS_TO_DELETE = "Only the story's author or a member with Manage Server can delete it."
NOT_A_PICTURE = "it is not a PNG, JPEG or WebP image"
NO_SUCH_STORY = "There is no such story on this server."
MODEL_NOT_ALLOWED = "The model of this scene is no longer allowed on this server."
BUTTONS_IN_SERVERS = "StoryBot's buttons work in servers only."


def photo_unusable_text(name: str, why: str) -> str:
    return f"`{name}` can't be used as a reference photo: {sentence(why)}"


def too_many_photos_text(model: str, limit: int, attached: int) -> str:
    return (
        f"Too many reference photos: this server's tier and {model} allow {limit}, "
        f"you attached {attached}."
    )


def model_off_bot_text(model: str) -> str:
    return f"{model} is unavailable on this bot."


def not_allowed_model_text(typed: str, allowed: str) -> str:
    return f"`{typed[:60]}` is not a model this server may use. Allowed: {allowed}."


def no_such_tier_text(name: str) -> str:
    return f"There is no tier called `{name[:40]}`."


def too_long_text(what: str, length: int, limit: int) -> str:
    return f"The {what} is {length:,} characters long; the limit is {limit:,}."


class Refusal(Exception):
    """A request we turn down before any provider call; shown ephemerally, as is."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


# Which stored failure each provider error is, in this order (ModelGone is a Misconfigured).
_FAILURES: tuple[tuple[type[ProviderError], JobFailure], ...] = (
    (ContentRefused, JobFailure.DECLINED),
    (RateLimited, JobFailure.BUSY),
    (Unavailable, JobFailure.BUSY),
    (ProviderTimeout, JobFailure.PROVIDER_TIMEOUT),
    (ModelGone, JobFailure.MODEL_GONE),
    (Misconfigured, JobFailure.MISCONFIGURED),
    (TooLarge, JobFailure.TOO_LARGE),
    (InvalidResponse, JobFailure.UNUSABLE),
)
_PROVIDER_TEXTS: dict[JobFailure, str] = {
    JobFailure.BUSY: "{who} is busy right now; try again in a minute.",
    JobFailure.PROVIDER_TIMEOUT: "{who} took too long to answer; try again.",
    JobFailure.MISCONFIGURED: (
        "That model is unavailable on this bot right now; pick another one from `/models`."
    ),
    JobFailure.TOO_LARGE: "{who} made a file larger than this bot accepts.",
    JobFailure.UNUSABLE: "{who} sent back something unusable; try again.",
    JobFailure.PROVIDER_ERROR: (
        "{who} could not do this; try again, or pick another model from `/models`."
    ),
}
# Why a scene has no video, where the provider's words are not the answer.
_VIDEO_TEXTS: dict[JobFailure, str] = {
    JobFailure.TIMED_OUT: "it was not ready in time",
    JobFailure.PICTURE_CHANGED: "the picture changed",
    JobFailure.INTERNAL: "something went wrong on our side",
    JobFailure.INTERRUPTED: "a restart interrupted it; press Animate to try again",
    JobFailure.SUPERSEDED: "a new picture replaced the one it animated",
}
VIDEO_FILE_MISSING = "the video file is missing"


def failure_of(exc: ProviderError) -> JobFailure:
    """The failure code a provider error is stored as."""
    return next(
        (code for kind, code in _FAILURES if isinstance(exc, kind)), JobFailure.PROVIDER_ERROR
    )


def provider_text(exc: ProviderError) -> str:
    """What a member reads when a provider call failed: never a secret, and never the
    provider's raw error text but for a refusal's reason, which tells the member what to
    change. The rest is in the log for the operators."""
    failure = failure_of(exc)
    if failure in (JobFailure.UNUSABLE, JobFailure.PROVIDER_ERROR):
        log.warning("%s failed: %s", exc.provider, exc.reason)
    model = exc.model_display if isinstance(exc, ModelGone) else ""
    return _provider_failure_text(failure, exc.provider, exc.reason, model)


def video_failure_text(failure: JobFailure, provider_reason: str | None) -> str:
    """Why a scene has no video, from its job's failure code and the provider's own words."""
    if failure in _VIDEO_TEXTS:
        return _VIDEO_TEXTS[failure]
    if failure is JobFailure.VIDEO_FAILED:
        return provider_reason or "the video failed"
    if failure is JobFailure.EXPIRED:
        return provider_reason or "the video expired"
    who, model = VIDEO_MODEL.provider.display, VIDEO_MODEL.display
    return _provider_failure_text(failure, who, provider_reason or "no reason given", model)


def _provider_failure_text(failure: JobFailure, who: str, reason: str, model: str) -> str:
    if failure is JobFailure.DECLINED:
        return f"The provider declined this prompt. {who} said: {sentence(reason)}"
    if failure is JobFailure.MODEL_GONE:
        return unavailable_text(model, who)
    return _PROVIDER_TEXTS.get(failure, _PROVIDER_TEXTS[JobFailure.PROVIDER_ERROR]).format(who=who)


def no_video_text(why: str | None) -> str:
    """The scene message's line for a video that was not made."""
    return f"❌ No video: {sentence(why or 'it failed')}"


def sentence(text: str) -> str:
    """`text` as one sentence: trimmed, with exactly one closing full stop."""
    text = " ".join(text.split()).rstrip(". ")
    return f"{text}." if text and text[-1] not in "!?…" else text


def unavailable_text(model: str, provider: str) -> str:
    """A model its provider denies (SPEC §4): said the same whether it just failed or is
    withdrawn for the hour."""
    return f"{model} is not available from {provider} right now; pick another model."


_BOOK_TEXTS: dict[type[BaseException], str] = {
    NoStoryHere: "You have no story in this channel yet: start one with `/story start`, "
    "or pick a story of this server in the `story` option.",
    UnknownStory: "There is no such story on this server: pick one from the `story` list.",
    EmptyStory: "This story has no scene to show yet.",
    PageTooLarge: "This story is too long for one page within this server's upload limit.",
}


def member_text(exc: BaseException) -> str:
    """Text for any failure; an unexpected one is logged under an incident id the member sees."""
    if isinstance(exc, Refusal):
        return exc.text
    if type(exc) in _BOOK_TEXTS:
        return _BOOK_TEXTS[type(exc)]
    if isinstance(exc, ProviderError):
        return provider_text(exc)
    if isinstance(exc, QuotaExceeded):
        return quota_text(exc)
    incident = secrets.token_hex(4)
    log.error("incident %s: unexpected error", incident, exc_info=exc)
    return f"Something went wrong on our side (incident `{incident}`). Please try again."


def quota_text(exc: QuotaExceeded) -> str:
    """One sentence: what was used up, and when it comes back."""
    noun = exc.kind  # "scene" or "video"
    resets = int(exc.resets_at.timestamp())
    if exc.limit == 0:
        return f"This server's tier allows no {noun}s."
    whose = "This server has" if exc.scope == "guild" else "You have"
    used = f"the 1 {noun}" if exc.limit == 1 else f"all {exc.limit} {noun}s"
    return f"{whose} used {used} allowed today; the quota resets <t:{resets}:R> (midnight UTC)."
