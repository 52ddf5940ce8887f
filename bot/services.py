"""The story flow: cheap checks → quota → scene writer → image provider → storage.

No Discord here: cogs and buttons hand in ids and attachment readers and get `SceneCard`s back
(assembled by bot/scene_card.py; reference photos are bot/photos.py's). The server's tier is
read once per interaction, at its check, and travels on the ticket. Every method that spends a
quota slot settles it: counted on success (at the provider's own cost where it reported one),
released on failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.errors import (
    ALREADY_REDRAWING,
    MODEL_NOT_ALLOWED,
    NO_STORY_HERE,
    NO_VIDEO_ON_TIER,
    OTHER_SERVERS_SCENE,
    SCENE_GONE,
    Refusal,
    quota_text,
    unavailable_text,
)
from bot.photos import ReferencePhotos, Upload
from bot.policy import Policy
from bot.scene_card import SceneCard, SceneCards, VideoBadge
from bot.tiers import Tier
from bot.videos import VideoService
from providers.base import (
    ImageProvider,
    ImageRequest,
    ReferenceImage,
    SceneContext,
    SceneWriter,
)
from providers.errors import ModelGone, ProviderError
from providers.registry import ModelSpec, Provider, Resolved
from storage import QuotaExceeded, Scene, Storage, Story, UsageKind

log = logging.getLogger(__name__)
TITLE_CHARS = 80


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked, and where."""

    guild_id: int
    channel_id: int
    member_id: int


@dataclass(frozen=True, slots=True)
class Ticket:
    """A passed check with its quota slot held; spend it with one generation. `tier` is the
    server's tier as the check read it: the generation goes by the same one."""

    actor: Actor
    tier: Tier
    resolved: Resolved
    reservation: int


@dataclass(frozen=True, slots=True)
class StartTicket(Ticket):
    uploads: tuple[Upload, ...]


@dataclass(frozen=True, slots=True)
class StoryTicket(Ticket):
    story: Story


@dataclass(frozen=True, slots=True)
class SceneTicket(StoryTicket):
    scene: Scene


@dataclass(frozen=True, slots=True)
class Drawn:
    """A scene's new picture, stored: the scene at its new image version, the PNG, the notice of
    a model standing in for a retired one, and what the provider said it cost, if it did."""

    scene: Scene
    png: bytes
    notice: str | None
    cost_usd: float | None


@dataclass(frozen=True, slots=True)
class Made:
    """A generation's result: the card to show, and the cost to settle its slot with."""

    card: SceneCard
    cost_usd: float | None


@dataclass
class StoryService:
    policy: Policy
    storage: Storage
    images: Mapping[Provider, ImageProvider]
    writer: SceneWriter
    videos: VideoService
    cards: SceneCards
    photos: ReferencePhotos
    # Scenes whose picture is being redrawn in this process: a second Regenerate meanwhile is
    # refused before it costs anything (a guild's buttons all reach the process of its shard).
    _redrawing: set[int] = field(default_factory=set, init=False)

    # -- cheap checks, before the interaction is deferred ---------------------------------

    async def check_start(
        self, actor: Actor, model: str | None, uploads: Sequence[Upload], video: bool | None
    ) -> StartTicket:
        tier = await self.policy.tier(actor.guild_id)
        resolved = await self.policy.choose(actor.guild_id, model, None, tier)
        self.policy.check_uploads([u.info for u in uploads], tier, resolved.spec)
        if video and not self.cards.animates(tier):
            raise Refusal(NO_VIDEO_ON_TIER)
        reservation = await self._reserve(actor, tier, resolved)
        return StartTicket(actor, tier, resolved, reservation, tuple(uploads))

    async def check_continue(
        self, actor: Actor, model: str | None, from_scene: int | None = None
    ) -> StoryTicket:
        if from_scene is None:
            story = await self.storage.stories.latest_for_member(
                guild_id=actor.guild_id, channel_id=actor.channel_id, author_id=actor.member_id
            )
            if story is None or not await self._told(story.id):
                raise Refusal(NO_STORY_HERE)
        else:
            story = await self._story_of(actor, await self._scene(from_scene))
        tier = await self.policy.tier(actor.guild_id)
        resolved = await self.policy.choose(actor.guild_id, model, story.model_key, tier)
        reservation = await self._reserve(actor, tier, resolved)
        return StoryTicket(actor, tier, resolved, reservation, story)

    async def check_regenerate(self, actor: Actor, scene_id: int) -> SceneTicket:
        scene = await self._scene(scene_id)
        story = await self._story_of(actor, scene)
        tier = await self.policy.tier(actor.guild_id)
        resolved = self.policy.for_tier(scene.model_key, tier)
        if resolved is None:
            raise Refusal(self._not_redrawable(scene.model_key))
        if scene.id in self._redrawing:
            raise Refusal(ALREADY_REDRAWING)
        self._redrawing.add(scene.id)  # no await since the check: a second press cannot slip in
        try:
            reservation = await self._reserve(actor, tier, resolved)
        except BaseException:
            self._redrawing.discard(scene.id)
            raise
        return SceneTicket(actor, tier, resolved, reservation, story, scene)

    def _not_redrawable(self, model_key: str) -> str:
        catalog = self.policy.catalog
        spec = catalog.get(model_key) if model_key in catalog else None
        if spec is not None and self.policy.withdrawn(spec):
            return unavailable_text(spec.display, spec.provider.display)
        return MODEL_NOT_ALLOWED

    async def _reserve(self, actor: Actor, tier: Tier, resolved: Resolved) -> int:
        entry = await self.storage.usage.reserve(
            guild_id=actor.guild_id,
            member_id=actor.member_id,
            kind=UsageKind.SCENE,
            model_key=resolved.spec.key,
            cost_usd=resolved.spec.cost_usd(tier.image_quality),
            guild_limit=tier.scenes_per_day,
            member_limit=tier.member_scenes_per_day,
        )
        return entry.id

    async def release(self, ticket: Ticket) -> None:
        """Give back a slot that was never spent (the interaction failed before generating)."""
        if isinstance(ticket, SceneTicket):
            self._redrawing.discard(ticket.scene.id)
        await self.storage.usage.settle(ticket.reservation, succeeded=False)

    def animates(self, ticket: Ticket) -> bool:
        """Whether the ticket's scene offers Animate (its server's tier has video)."""
        return self.cards.animates(ticket.tier)

    # -- generations, after the deferral ----------------------------------------------------

    async def start(self, ticket: StartTicket, premise: str, video: bool | None) -> SceneCard:
        return await self._settled(ticket, self._start(ticket, premise, video))

    async def continue_story(self, ticket: StoryTicket, direction: str | None) -> SceneCard:
        return await self._settled(ticket, self._next_scene(ticket, ticket.story, direction))

    async def regenerate(self, ticket: SceneTicket) -> SceneCard:
        try:
            return await self._settled(ticket, self._redraw(ticket))
        finally:
            self._redrawing.discard(ticket.scene.id)

    async def _start(self, ticket: StartTicket, premise: str, video: bool | None) -> Made:
        photos = await self.photos.read(ticket.uploads)
        settings = await self.policy.guild(ticket.actor.guild_id)
        story = await self.storage.stories.create(
            guild_id=ticket.actor.guild_id,
            channel_id=ticket.actor.channel_id,
            author_id=ticket.actor.member_id,
            premise=premise,
            title=_title(premise),
            model_key=ticket.resolved.spec.key,
            video_mode=settings.video_default if video is None else video,
        )
        await self.photos.store(story, photos)
        return await self._next_scene(ticket, story, None, new_with=photos)

    async def _next_scene(
        self,
        ticket: Ticket,
        story: Story,
        direction: str | None,
        *,
        new_with: Sequence[ReferenceImage] | None = None,
    ) -> Made:
        """`new_with`: the story was just created with these photos, so it has no scenes yet and
        its references need not be read back (two storage round trips fewer per /story start)."""
        earlier = [] if new_with is not None else await self._told(story.id)
        text = await self.writer.write(
            SceneContext(story.premise, tuple(s.text for s in earlier), direction)
        )
        scene = await self.storage.scenes.create(
            story_id=story.id,
            text=text,
            model_key=ticket.resolved.spec.key,
            channel_id=ticket.actor.channel_id,
            direction=direction,
        )
        previous = earlier[-1] if earlier else None
        drawn = await self._draw(ticket, story, scene, previous, photos=new_with)
        badge, detail = await self._queue_video_if_due(ticket, story, drawn.scene)
        # The number the database gave the drawn scene, not one counted before the insert: two
        # scenes of one story made at the same instant each show their own (SPEC §10).
        card = self.cards.of(
            story,
            drawn.scene,
            drawn.png,
            ticket.tier,
            notice=drawn.notice,
            badge=badge,
            detail=detail,
        )
        return Made(card, drawn.cost_usd)

    async def _redraw(self, ticket: SceneTicket) -> Made:
        story, scene = ticket.story, ticket.scene
        earlier = await self._told(story.id)
        previous = next((s for s in reversed(earlier) if _told_order(s) < _told_order(scene)), None)
        drawn = await self._draw(ticket, story, scene, previous)
        await self.videos.drop(scene.id)  # the old picture's video, if any, is gone
        card = self.cards.of(story, drawn.scene, drawn.png, ticket.tier, notice=drawn.notice)
        return Made(card, drawn.cost_usd)

    async def _draw(
        self,
        ticket: Ticket,
        story: Story,
        scene: Scene,
        previous: Scene | None,
        *,
        photos: Sequence[ReferenceImage] | None = None,
    ) -> Drawn:
        """Draw and store the scene's picture, with the model that draws by the date of the call;
        `photos`: the story's reference photos when the caller holds them already."""
        resolved = self.policy.at_call(ticket.resolved, ticket.tier)
        spec = resolved.spec
        references = await self.photos.for_drawing(story, previous, spec.max_references, photos)
        prompt = f"{story.premise}\n\nIllustrate this scene:\n{scene.text}"
        quality = ticket.tier.image_quality if spec.takes_quality else None
        request = ImageRequest(prompt, references, quality)
        try:
            result = await self.images[spec.provider].generate(spec, request)
        except ProviderError as exc:
            await self.storage.scenes.mark_failed(scene.id, str(exc))
            if isinstance(exc, ModelGone):
                self._withdraw(spec, exc)
            raise
        await self.storage.media.save_image(scene.id, result.png)
        drawn = await self.storage.scenes.record_image(scene.id, spec.key)
        return Drawn(drawn, result.png, resolved.notice, result.cost_usd)

    def _withdraw(self, spec: ModelSpec, exc: ModelGone) -> None:
        """A model that died unannounced: hidden for the hour, and the operator told once."""
        if self.policy.withdraw(spec):
            log.warning(
                "%s answers that model %r (api_model %r) does not exist (%s); %s is withdrawn "
                'for an hour. Fix its entry [models."%s"] in MODELS_FILE: set status = '
                '"retired" and a successor, or the api_model the provider serves now.',
                spec.provider.display,
                spec.key,
                spec.api_model,
                exc.reason,
                spec.display,
                spec.key,
            )

    # -- video --------------------------------------------------------------------------

    async def animate(
        self, actor: Actor, scene_id: int, *, pressed_on: int | None = None
    ) -> SceneCard:
        """Queue a video of the scene's current picture (Animate), pressed on the message
        `pressed_on`: the scene's own, whose id may not be stored yet when the press follows
        the post at once (the id is known only once Discord has the message)."""
        scene = await self._scene(scene_id)
        if scene.message_id is None and pressed_on is not None:
            scene = await self.storage.scenes.set_message(
                scene.id, channel_id=actor.channel_id, message_id=pressed_on
            )
        story = await self._story_of(actor, scene)
        tier = await self.policy.tier(actor.guild_id)
        if not self.cards.animates(tier):
            raise Refusal(NO_VIDEO_ON_TIER)
        await self.videos.animate(
            scene, guild_id=actor.guild_id, member_id=actor.member_id, limit=tier.videos_per_day
        )
        png = await self.cards.picture(scene.id)
        return self.cards.of(story, scene, png, tier, badge=VideoBadge.PENDING)

    async def _queue_video_if_due(
        self, ticket: Ticket, story: Story, scene: Scene
    ) -> tuple[VideoBadge | None, str | None]:
        if not (story.video_mode and self.cards.animates(ticket.tier)):
            return None, None
        actor = ticket.actor
        try:
            await self.videos.queue(
                scene,
                guild_id=actor.guild_id,
                member_id=actor.member_id,
                limit=ticket.tier.videos_per_day,
            )
        except QuotaExceeded as exc:  # the scene still stands, without its video
            return VideoBadge.FAILED, quota_text(exc)
        return VideoBadge.PENDING, None

    # -- shared -------------------------------------------------------------------------

    async def _told(self, story_id: int) -> list[Scene]:
        """The story's scenes members have seen (see `told`), for numbers and the writer."""
        return told(await self.storage.scenes.list_for_story(story_id))

    async def _scene(self, scene_id: int) -> Scene:
        scene = await self.storage.scenes.get(scene_id)
        if scene is None:
            raise Refusal(SCENE_GONE)
        return scene

    async def _story_of(self, actor: Actor, scene: Scene) -> Story:
        story = await self.storage.stories.get(scene.story_id)
        if story is None:
            raise Refusal(SCENE_GONE)
        if story.guild_id != actor.guild_id:
            raise Refusal(OTHER_SERVERS_SCENE)
        return story

    async def _settled(self, ticket: Ticket, work: Awaitable[Made]) -> SceneCard:
        """Count the slot if the work succeeds, at the cost the provider reported if it did;
        release it if anything fails."""
        try:
            made = await work
        except BaseException:
            await asyncio.shield(self.storage.usage.settle(ticket.reservation, succeeded=False))
            raise
        await self.storage.usage.settle(ticket.reservation, succeeded=True, cost_usd=made.cost_usd)
        return made.card


def told(scenes: Sequence[Scene]) -> list[Scene]:
    """The scenes members have seen, in the order of their numbers. A scene whose drawing
    failed was never shown: it keeps its row (and failure reason) but no number."""
    return sorted((s for s in scenes if s.told_number is not None), key=_told_order)


def _title(premise: str) -> str:
    first = " ".join(premise.split())
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1].rstrip() + "…"


def _told_order(scene: Scene) -> int:
    return scene.told_number or 0
