"""The scene message's content (SPEC §5 "The scene message"), without Discord: story title,
scene number and text, the model that drew it, the picture, the video's state and whether the
scene offers Animate. bot/render.py turns a SceneCard into the embed, file and buttons."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.errors import PICTURE_GONE, SCENE_GONE, Refusal, video_failure_text
from bot.policy import Policy
from bot.tiers import Tier
from bot.videos import VideoService
from providers.registry import Catalog
from storage import JobState, Scene, Storage, Story, VideoJob


class VideoBadge(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"
    TOO_LARGE = "too_large"


@dataclass(frozen=True, slots=True)
class SceneCard:
    """Everything the scene message shows."""

    scene_id: int
    story_title: str
    number: int
    text: str
    model_display: str
    notice: str | None
    png: bytes  # the picture, from the drawing itself or read back through storage
    video: VideoBadge | None = None
    video_detail: str | None = None
    animate: bool = True  # the server's tier has video: the scene offers Animate


class SceneCards:
    """Assembles SceneCards: of a scene just drawn (its PNG in hand), or as stored now."""

    def __init__(self, policy: Policy, storage: Storage, videos: VideoService) -> None:
        self._policy = policy
        self._storage = storage
        self._videos = videos

    def animates(self, tier: Tier) -> bool:
        """Whether scenes on this tier may be animated: without, no Animate button is shown."""
        return self._videos.available and tier.video

    def of(
        self,
        story: Story,
        scene: Scene,
        png: bytes,
        tier: Tier,
        *,
        notice: str | None = None,
        badge: VideoBadge | None = None,
        detail: str | None = None,
    ) -> SceneCard:
        return SceneCard(
            scene_id=scene.id,
            story_title=story.title,
            number=scene.told_number or 0,  # every scene a card shows has been drawn
            text=scene.text,
            model_display=model_display(self._policy.catalog, scene.model_key),
            notice=notice,
            png=png,
            video=badge,
            video_detail=detail,
            animate=self.animates(tier),
        )

    async def stored(self, scene_id: int) -> SceneCard:
        """The scene message as stored now, video badge included."""
        scene = await self._storage.scenes.get(scene_id)
        story = await self._storage.stories.get(scene.story_id) if scene else None
        if scene is None or story is None:
            raise Refusal(SCENE_GONE)
        job = await self._storage.jobs.for_scene(scene.id)
        badge, detail = None, None
        if job is not None and job.image_version == scene.image_version:
            badge, detail = _job_badge(job)
        png = await self.picture(scene.id)
        tier = await self._policy.tier(story.guild_id)
        return self.of(story, scene, png, tier, badge=badge, detail=detail)

    async def picture(self, scene_id: int) -> bytes:
        png = await self._storage.media.read_image(scene_id)
        if png is None:
            raise Refusal(PICTURE_GONE)
        return png


def model_display(catalog: Catalog, key: str) -> str:
    """The model's display name; a MODELS_FILE may since have dropped it, then its key."""
    return catalog.get(key).display if key in catalog else key


def _job_badge(job: VideoJob) -> tuple[VideoBadge, str | None]:
    if not job.finished:
        return VideoBadge.PENDING, None
    if job.state is JobState.DONE:
        return VideoBadge.READY, None
    if job.reason is None:  # a failed job always has one (a CHECK constraint)
        return VideoBadge.FAILED, None
    return VideoBadge.FAILED, video_failure_text(job.reason, job.provider_reason)
